// Opens a photo's 1600 px preview with its finding boxes over the page. Without this script
// the link opens the same view as its own page.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.preview");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  const overlay = document.createElement("div");
  overlay.className = "overlay";
  const figure = document.createElement("figure");
  figure.className = "large";
  const img = document.createElement("img");
  img.src = link.dataset.large;
  img.alt = link.querySelector("img").alt;
  figure.appendChild(img);
  link.querySelectorAll(".box").forEach((box) => figure.appendChild(box.cloneNode(true)));
  const close = document.createElement("button");
  close.className = "close";
  close.textContent = "×";
  overlay.append(figure, close);
  const shut = () => overlay.remove();
  overlay.addEventListener("click", (e) => { if (e.target === overlay || e.target === close) shut(); });
  document.addEventListener("keydown", function onKey(e) {
    if (e.key === "Escape") { shut(); document.removeEventListener("keydown", onKey); }
  });
  document.body.appendChild(overlay);
});

// The exposé's fields, order and cover. Every form works as a plain post; here they save
// without reloading the page, and the gallery order can also be dragged.
// URL-encoded like a plain form post (the CSRF layer reads the token from such a body).
const post = (url, data) =>
  fetch(url, {
    method: "POST",
    body: new URLSearchParams(data),
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  }).then((r) => r.json().then((answer) => ({ ok: r.ok && answer.ok, data: answer })));

const grid = document.querySelector(".grid[data-order-url]");
const token = () => document.querySelector("input[name=csrftoken]").value;

document.querySelectorAll("form.fields-form").forEach((form) => {
  const status = form.querySelector(".saved");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.textContent = status.dataset.saving || "…";
    post(form.getAttribute("action"), new FormData(form)).then(({ ok, data }) => {
      status.textContent = ok ? form.dataset.saved : data.message;
      status.classList.toggle("error", !ok);
      if (ok) {
        Object.entries(data.sources || {}).forEach(([name, text]) => {
          const line = form.querySelector(`.source[data-field=${name}]`);
          if (line) line.textContent = text;
        });
      }
    }).catch((error) => {
      status.textContent = `${form.dataset.failed} ${error.message}`;
      status.classList.add("error");
    });
  });
  // Keyboard: Ctrl+Enter saves from the description too (Enter already saves from a line).
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.querySelectorAll("[data-limit]").forEach((input) => {
    const count = document.getElementById(input.getAttribute("aria-describedby"));
    input.addEventListener("input", () => {
      count.textContent = `${input.value.length}/${input.dataset.limit}`;
    });
  });
});

const saveOrder = () => {
  const body = new URLSearchParams();
  body.append("csrftoken", token());
  grid.querySelectorAll("article.photo").forEach((a) => body.append("image_id", a.dataset.imageId));
  return post(grid.dataset.orderUrl, body);
};

if (grid) {
  let dragged = null;
  grid.querySelectorAll("article.photo").forEach((article) => {
    article.draggable = true;
    article.addEventListener("dragstart", (event) => {
      dragged = article;
      article.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", article.dataset.imageId);
    });
    article.addEventListener("dragend", () => {
      article.classList.remove("dragging");
      dragged = null;
    });
  });
  grid.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("article.photo");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientX > box.left + box.width / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  grid.addEventListener("drop", (event) => {
    event.preventDefault();
    saveOrder();
  });
  // "Früher" / "Später" move the card in place and keep the focus on the button pressed.
  grid.querySelectorAll("form.move-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const article = form.closest("article.photo");
      const earlier = event.submitter && event.submitter.value === "-1";
      const sibling = earlier ? article.previousElementSibling : article.nextElementSibling;
      if (!sibling) return;
      article.parentNode.insertBefore(article, earlier ? sibling : sibling.nextSibling);
      event.submitter.focus();
      saveOrder();
    });
  });
}

// Finding labels over a 400 px preview can land on each other: each label that would cover
// an earlier one moves down below it, so every label stays readable.
const untangle = (container) => {
  const placed = [];
  container.querySelectorAll(".box .tag").forEach((tag) => {
    tag.style.transform = "";
    let shift = 0;
    for (let tries = 0; tries < 8; tries += 1) {
      const r = tag.getBoundingClientRect();
      const hit = placed.find((p) => r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top);
      if (!hit) break;
      shift += hit.bottom - r.top + 1;
      tag.style.transform = `translateY(${shift}px)`;
    }
    placed.push(tag.getBoundingClientRect());
  });
};
const untangleAll = () => document.querySelectorAll("a.preview").forEach(untangle);
untangleAll();
window.addEventListener("resize", untangleAll);
