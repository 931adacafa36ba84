// Scheme editor rows: add a row from the list's <template>, remove a row. Without JS the editor
// still works: every list shows two spare rows and a "删除" checkbox per row.
(function () {
  const editor = document.querySelector("[data-scheme-editor]");
  if (!editor) return;
  editor.querySelectorAll(".scheme-js").forEach(function (el) { el.classList.remove("d-none"); });
  editor.querySelectorAll(".scheme-nojs").forEach(function (el) { el.classList.add("d-none"); });

  editor.addEventListener("click", function (event) {
    const add = event.target.closest("[data-row-add]");
    if (add) {
      const key = add.dataset.rowAdd;
      const template = document.getElementById("scheme-row-" + key);
      const body = document.getElementById("scheme-rows-" + key);
      if (!template || !body) return;
      const index = parseInt(body.dataset.nextIndex || "0", 10);
      body.insertAdjacentHTML("beforeend", template.innerHTML.split("__prefix__").join(String(index)));
      body.dataset.nextIndex = String(index + 1);
      body.lastElementChild.querySelectorAll(".scheme-js").forEach(function (el) { el.classList.remove("d-none"); });
      body.lastElementChild.querySelectorAll(".scheme-nojs").forEach(function (el) { el.classList.add("d-none"); });
      const first = body.lastElementChild.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    const remove = event.target.closest("[data-row-remove]");
    if (remove) {
      const row = remove.closest("[data-scheme-row]");
      if (row) row.remove();
    }
  });
})();
