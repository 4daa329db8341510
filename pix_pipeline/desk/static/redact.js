// "Bereich unkenntlich machen": dragging a rectangle over the internal photo fills the form's
// x, y, w, h (fractions 0–1 of the upright photo) and shows the rectangle. Without this script
// Daniel types the four numbers; the server checks them either way.
(() => {
  const figure = document.querySelector("figure.drag-area");
  const form = document.getElementById("area-form");
  if (!figure || !form) return;
  let start = null;
  let marker = null;
  const clamp = (v) => Math.min(Math.max(v, 0), 1);
  const point = (event) => {
    const r = figure.getBoundingClientRect();
    return { x: clamp((event.clientX - r.left) / r.width), y: clamp((event.clientY - r.top) / r.height) };
  };
  const show = (a, b) => {
    const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
    const w = Math.abs(a.x - b.x), h = Math.abs(a.y - b.y);
    marker.style.left = `${x * 100}%`;
    marker.style.top = `${y * 100}%`;
    marker.style.width = `${w * 100}%`;
    marker.style.height = `${h * 100}%`;
    form.x.value = x.toFixed(4);
    form.y.value = y.toFixed(4);
    form.w.value = w.toFixed(4);
    form.h.value = h.toFixed(4);
  };
  figure.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = point(event);
    if (!marker) {
      marker = document.createElement("span");
      marker.className = "box dragged";
      figure.appendChild(marker);
    }
    show(start, start);
    figure.setPointerCapture(event.pointerId);
  });
  figure.addEventListener("pointermove", (event) => { if (start) show(start, point(event)); });
  figure.addEventListener("pointerup", (event) => { if (start) { show(start, point(event)); start = null; } });
})();
