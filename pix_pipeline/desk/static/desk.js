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
