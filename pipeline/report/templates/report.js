// Curator's report: trial table filters/sort/search, provenance viewer, chart clicks. No network.
(function () {
  "use strict";
  const $ = (s, el) => (el || document).querySelector(s);
  const $$ = (s, el) => Array.from((el || document).querySelectorAll(s));

  // ------------------------------------------------------------------ provenance viewer
  const viewer = $("#viewer"), backdrop = $("#backdrop");
  const stage = $("#viewer .stage"), img = $("#viewer-img"), label = $("#viewer .label");
  const openLink = $("#viewer-open");

  function boxes(hl) {
    return (hl || "").split(";").filter(Boolean).map((b) => b.split(",").map(Number));
  }

  function openViewer(a) {
    $$(".box, .band", stage).forEach((b) => b.remove());
    label.textContent = a.dataset.label || "";
    openLink.href = a.getAttribute("href");
    viewer.hidden = false; backdrop.hidden = false;
    const place = () => {
      stage.style.width = img.naturalWidth + "px";
      stage.style.height = img.naturalHeight + "px";
      let first = null;
      for (const [l, t, w, h] of boxes(a.dataset.band)) {
        const d = document.createElement("div");
        d.className = "band";
        d.style.left = l + "%"; d.style.top = t + "%"; d.style.width = w + "%"; d.style.height = h + "%";
        stage.appendChild(d);
      }
      for (const [l, t, w, h] of boxes(a.dataset.hl)) {
        const d = document.createElement("div");
        d.className = "box";
        d.style.left = l + "%"; d.style.top = t + "%"; d.style.width = w + "%"; d.style.height = h + "%";
        stage.appendChild(d);
        if (!first) first = d;
      }
      const wrap = $("#viewer .stagewrap");
      if (first) {
        wrap.scrollTop = first.offsetTop - wrap.clientHeight / 2 + first.offsetHeight / 2;
        wrap.scrollLeft = first.offsetLeft - wrap.clientWidth / 2 + first.offsetWidth / 2;
      } else { wrap.scrollTop = 0; wrap.scrollLeft = 0; }
      viewer.dataset.loaded = "1";
    };
    viewer.dataset.loaded = "";
    img.onload = place;
    img.src = a.getAttribute("href");
    if (img.complete && img.naturalWidth) place();
    $("#viewer-close").focus();
  }
  function closeViewer() { viewer.hidden = true; backdrop.hidden = true; }
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a.prov, a.peek");
    if (!a) return;
    ev.preventDefault();
    openViewer(a);
  });
  $("#viewer-close").addEventListener("click", closeViewer);
  backdrop.addEventListener("click", closeViewer);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !viewer.hidden) closeViewer(); });

  // ------------------------------------------------------------------ trial table
  const table = $("#trial-table");
  if (table) {
    const tbody = table.tBodies[0];
    const rows = Array.from(tbody.rows);
    const facets = $$("select[data-facet]");
    const search = $("#trial-search");
    const count = $("#trial-count");
    rows.forEach((r) => { r._text = r.textContent.toLowerCase().replace(/\s+/g, " "); });

    function apply() {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const r of rows) {
        let ok = !q || r._text.includes(q);
        for (const s of facets) {
          if (!ok) break;
          if (s.value) ok = ("|" + (r.dataset[s.dataset.facet] || "") + "|").includes("|" + s.value + "|");
        }
        r.hidden = !ok;
        if (ok) shown++;
      }
      count.textContent = shown + " of " + rows.length + " trials shown";
      count.dataset.shown = String(shown);
    }
    facets.forEach((s) => s.addEventListener("change", apply));
    search.addEventListener("input", apply);
    $("#trial-reset").addEventListener("click", () => { facets.forEach((s) => (s.value = "")); search.value = ""; apply(); });

    $$("th[data-col]", table).forEach((th, idx) => {
      th.querySelector("button").addEventListener("click", () => {
        const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        $$("th[data-col]", table).forEach((o) => o.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", dir);
        const num = th.dataset.type === "num", sign = dir === "ascending" ? 1 : -1;
        const key = (r) => { const c = r.cells[idx]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim(); };
        rows.sort((a, b) => {
          let x = key(a), y = key(b);
          if (num) {
            x = x === "" ? NaN : Number(x); y = y === "" ? NaN : Number(y);
            if (isNaN(x) && isNaN(y)) return 0;
            if (isNaN(x)) return 1;
            if (isNaN(y)) return -1;
            return sign * (x - y);
          }
          if (!x && y) return 1;
          if (x && !y) return -1;
          return sign * x.localeCompare(y, undefined, { numeric: true });
        });
        rows.forEach((r) => tbody.appendChild(r));
      });
    });
    window.reportSetFacet = (facet, value) => {
      if (facet === "registry_id") { search.value = value; }
      else {
        const s = $("select[data-facet='" + facet + "']");
        if (!s) return;
        if (!Array.from(s.options).some((o) => o.value === value)) return;
        s.value = value;
      }
      apply();
      $("#trials").scrollIntoView({ behavior: "smooth" });
    };
    apply();
  }

  // ------------------------------------------------------------------ charts
  const specEl = $("#chart-specs");
  if (specEl && window.vegaEmbed) {
    for (const c of JSON.parse(specEl.textContent)) {
      const el = document.getElementById(c.id);
      window.vegaEmbed(el, c.spec, { actions: { export: true, source: false, compiled: false, editor: false }, renderer: "svg" })
        .then((res) => {
          el.dataset.rendered = "1";
          res.view.addEventListener("click", (ev, item) => {
            const d = item && item.datum;
            if (!d || !window.reportSetFacet) return;
            if (c.facet === "registry_id" && d.registry_id) window.reportSetFacet("registry_id", d.registry_id);
            else if (d.value) window.reportSetFacet(c.facet, d.value);
          });
        })
        .catch((err) => { el.textContent = "chart failed: " + err; });
    }
  } else if (specEl) {
    $$(".chart").forEach((el) => (el.textContent = "charts need JavaScript (Vega bundle missing)"));
  }
})();
