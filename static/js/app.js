// Tree toggles: the first click loads children with htmx, later clicks collapse/expand.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-tree-toggle]");
  if (!button) return;
  const target = document.getElementById(button.dataset.treeToggle);
  if (!target) return;
  const expanded = button.getAttribute("aria-expanded") === "true";
  if (!expanded && !target.dataset.loaded && button.dataset.url) {
    target.dataset.loaded = "1";
    htmx.ajax("GET", button.dataset.url, { target: target, swap: "innerHTML" });
  }
  target.hidden = expanded;
  button.setAttribute("aria-expanded", expanded ? "false" : "true");
  button.querySelector("i").className = expanded ? "bi bi-plus-square" : "bi bi-dash-square";
});
