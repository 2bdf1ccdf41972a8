// The convolution explorer: draws what SymconvLayer (docs/js/symconv_layer.js, printed by
// `symconv generate` from the engine's index forms) computes. This script computes no size
// or index itself: it parses the controls, calls SymconvLayer, and draws.
"use strict";
(function () {
  var L = SymconvLayer;
  var root = document.getElementById("sc-explorer");
  if (!root) return;

  var DEFAULTS = {
    dims: "2", input: "7x7", kernel: "3", stride: "1", padding: "1", padding_mode: "zeros",
    dilation: "1", in_channels: "1", out_channels: "1", groups: "1", transposed: "0",
    output_padding: "0", pool: "none", ceil_mode: "0", flip: "0", select: "0,0",
    select_input: "", image: "larson", kernel_values: "blur",
  };
  var CHOICES = {
    dims: ["1", "2"], padding_mode: ["zeros", "reflect", "replicate", "circular"],
    pool: ["none", "max", "avg"], transposed: ["0", "1"], ceil_mode: ["0", "1"],
    flip: ["0", "1"], image: ["larson", "edge", "ramp", "file"],
    kernel_values: ["blur", "edge", "ones", "ramp"],
  };
  var LABELS = {
    dims: "dims", input: "input size", kernel: "kernel size", stride: "stride",
    padding: "padding (n, lo:hi, same, valid, full)", padding_mode: "padding mode",
    dilation: "dilation", in_channels: "in channels", out_channels: "out channels",
    groups: "groups", transposed: "transposed", output_padding: "output padding",
    pool: "pooling", ceil_mode: "ceil mode", flip: "flip (true convolution)",
    image: "image", kernel_values: "kernel values",
  };
  var LARSON = [[1, 2, 3, 4, 12, 9, 8], [5, 2, 3, 4, 12, 9, 8], [5, 2, 1, 4, 10, 9, 8],
                [7, 2, 1, 4, 12, 7, 8], [7, 2, 1, 4, 14, 9, 8], [5, 2, 3, 4, 12, 7, 8],
                [5, 2, 1, 4, 12, 9, 8]];
  var state = {};
  var fileImage = null;

  function readState() {
    var q = new URLSearchParams(window.location.search);
    Object.keys(DEFAULTS).forEach(function (k) { state[k] = q.has(k) ? q.get(k) : DEFAULTS[k]; });
  }

  function writeState() {
    var q = new URLSearchParams();
    Object.keys(DEFAULTS).forEach(function (k) { if (state[k] !== DEFAULTS[k]) q.set(k, state[k]); });
    var url = window.location.pathname + (q.toString() ? "?" + q.toString() : "");
    try { window.history.replaceState(null, "", url); } catch (e) { /* file:// in some browsers */ }
  }

  function perAxis(text, dims, what) {
    var parts = String(text).split("x").map(function (v) { return v.trim(); });
    if (parts.length === 1) parts = Array(dims).fill(parts[0]);
    if (parts.length !== dims) throw new Error(what + " " + JSON.stringify(text) + " needs 1 or " + dims + " values");
    return parts.map(function (v) {
      var n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(what + " " + JSON.stringify(text) + " must be whole numbers");
      return n;
    });
  }

  function paddingPerAxis(text, dims) {
    var t = String(text).trim();
    if (t === "same" || t === "valid" || t === "full") return Array(dims).fill(t);
    var parts = t.split("x");
    if (parts.length === 1) parts = Array(dims).fill(parts[0]);
    if (parts.length !== dims) throw new Error("padding " + JSON.stringify(text) + " needs 1 or " + dims + " values");
    return parts.map(function (p) {
      var sides = p.split(":").map(Number);
      if (sides.some(function (v) { return !Number.isInteger(v) || v < 0; })) {
        throw new Error("padding " + JSON.stringify(text) + " must be whole numbers, lo:hi, same, valid or full");
      }
      return sides.length === 2 ? sides : sides[0];
    });
  }

  function positive(v, what) {
    var n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(what + " must be a whole number >= 1, got " + JSON.stringify(v));
    return n;
  }

  // The layer as SymconvLayer takes it, per axis, plus its checks (the engine's SpecError rules
  // that the page needs to draw at all).
  function model() {
    var dims = Number(state.dims);
    var sizes = perAxis(state.input, dims, "input");
    var ks = perAxis(state.kernel, dims, "kernel");
    var ss = perAxis(state.stride, dims, "stride");
    var ds = perAxis(state.dilation, dims, "dilation");
    var transposed = state.transposed === "1";
    var pool = state.pool;
    var kind = transposed ? "transpose" : pool !== "none" ? "pool" : "conv";
    var pads = kind === "transpose" ? perAxis(state.padding, dims, "padding") : paddingPerAxis(state.padding, dims);
    var ops = perAxis(state.output_padding, dims, "output padding");
    var cin = positive(state.in_channels, "in channels");
    var cout = kind === "pool" ? cin : positive(state.out_channels, "out channels");
    var groups = kind === "pool" ? 1 : positive(state.groups, "groups");
    if (cin % groups || cout % groups) throw new Error("groups " + groups + " must divide in and out channels");
    sizes.concat(ks, ss, ds).forEach(function (v) { if (v < 1) throw new Error("sizes, kernel, stride and dilation must be >= 1"); });
    var layers = [], plans = [], tables = [];
    for (var ax = 0; ax < dims; ax++) {
      if (kind === "pool" && pads[ax] === "same") throw new Error("pooling takes a number for padding");
      var layer = { kind: kind, k: ks[ax], s: ss[ax], d: ds[ax], padding: pads[ax],
                    mode: kind === "conv" ? state.padding_mode : "zeros", flip: state.flip === "1",
                    ceil: state.ceil_mode === "1", op: ops[ax], pool: pool,
                    cin: cin, cout: cout, groups: groups };
      if (pads[ax] === "same" && ss[ax] !== 1) throw new Error("padding 'same' needs stride 1");
      if (kind === "transpose" && ops[ax] >= Math.max(ss[ax], ds[ax])) {
        throw new Error("output padding must be smaller than the stride or the dilation");
      }
      var plan = L.axisPlan(layer, sizes[ax]);
      if (kind !== "transpose") {
        if (L.dilatedExtent(ks[ax], ds[ax]) > plan.padded) throw new Error("the kernel spans more than the padded input along axis " + ax);
        if (layer.mode === "reflect" && Math.max(plan.lo, plan.hi) >= sizes[ax]) throw new Error("reflect padding must be smaller than the input");
        if (layer.mode === "circular" && Math.max(plan.lo, plan.hi) > sizes[ax]) throw new Error("circular padding must be at most the input");
      }
      if (plan.out < 1) throw new Error("the output would be empty along axis " + ax);
      if (plan.out * plan.k > 20000) throw new Error("too large to draw: choose an input under a few hundred");
      layers.push(layer); plans.push(plan); tables.push(L.tapTable(layer, plan));
    }
    return { dims: dims, kind: kind, layers: layers, plans: plans, tables: tables, cin: cin, cout: cout, groups: groups };
  }

  // ---- drawing ----------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function controls() {
    var form = el("form", { class: "sc-controls", "aria-label": "layer settings" });
    Object.keys(LABELS).forEach(function (k) {
      var label = el("label", {}, LABELS[k] + " ");
      var input;
      if (CHOICES[k]) {
        input = el("select", { name: k });
        CHOICES[k].forEach(function (v) { var o = el("option", { value: v }, v); if (v === state[k]) o.selected = true; input.appendChild(o); });
      } else {
        input = el("input", { name: k, value: state[k], size: "7" });
      }
      input.addEventListener("change", function () {
        state[k] = input.value;
        if (k === "image" && input.value === "file") { picker.click(); }
        update();
      });
      label.appendChild(input);
      form.appendChild(label);
    });
    var picker = el("input", { type: "file", accept: "image/*", "aria-label": "pick an image", hidden: "" });
    picker.addEventListener("change", function () {
      var file = picker.files[0];
      if (!file) return;
      var img = new Image();
      img.onload = function () { fileImage = img; update(); };
      img.src = URL.createObjectURL(file);
    });
    form.appendChild(picker);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    return form;
  }

  function imageValues(m) {
    var sizes = m.plans.map(function (p) { return p.i; });
    var H = m.dims === 2 ? sizes[0] : 1, W = m.dims === 2 ? sizes[1] : sizes[0];
    var grid = [];
    for (var r = 0; r < H; r++) {
      var row = [];
      for (var c = 0; c < W; c++) {
        var v;
        if (state.image === "larson") v = LARSON[r % 7][c % 7];
        else if (state.image === "edge") v = c < W / 2 ? 0 : 9;
        else v = r + c;
        row.push(v);
      }
      grid.push(row);
    }
    if (state.image === "file" && fileImage) {
      var cv = el("canvas", { width: String(W), height: String(H) });
      var ctx = cv.getContext("2d");
      ctx.drawImage(fileImage, 0, 0, W, H);
      var data = ctx.getImageData(0, 0, W, H).data;
      for (var i = 0; i < H * W; i++) {
        grid[Math.floor(i / W)][i % W] = Math.round((data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / 3);
      }
    }
    return m.dims === 2 ? grid : grid[0];
  }

  function kernelValues(m) {
    var ks = m.plans.map(function (p) { return p.k; });
    var H = m.dims === 2 ? ks[0] : 1, W = m.dims === 2 ? ks[1] : ks[0];
    var presets = { blur: [[1, 2, 1], [2, 4, 2], [1, 2, 1]], edge: [[-1, 1]] };
    var preset = presets[state.kernel_values];
    var fits = preset && preset.length === H && preset[0].length === W;
    var grid = [];
    for (var r = 0; r < H; r++) {
      var row = [];
      for (var c = 0; c < W; c++) {
        row.push(fits ? preset[r][c] : state.kernel_values === "ramp" ? r * W + c + 1 : 1);
      }
      grid.push(row);
    }
    return m.dims === 2 ? grid : grid[0];
  }

  function parseCell(text, shape) {
    if (!text) return null;
    var v = String(text).split(",").map(Number);
    if (v.length !== shape.length || v.some(function (x, i) { return !Number.isInteger(x) || x < 0 || x >= shape[i]; })) return null;
    return v;
  }

  function gridTable(shape, label, cellText, classes, onPick, selected) {
    var rows = shape.length === 2 ? shape[0] : 1, cols = shape.length === 2 ? shape[1] : shape[0];
    var table = el("table", { class: "sc-grid", role: "grid", "aria-label": label });
    for (var r = 0; r < rows; r++) {
      var tr = el("tr", { role: "row" });
      for (var c = 0; c < cols; c++) {
        var at = shape.length === 2 ? [r, c] : [c];
        var td = el("td", { role: "gridcell" });
        var b = el("button", { type: "button", class: "sc-cell " + classes(at), "data-at": at.join(","),
                               "aria-label": label + " " + at.join(","), tabindex: selected && at.join(",") === selected.join(",") ? "0" : "-1" },
                   cellText(at));
        (function (at) {
          b.addEventListener("click", function () { onPick(at); });
          b.addEventListener("keydown", function (e) {
            var move = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[e.key];
            if (!move) return;
            e.preventDefault();
            var next = shape.length === 2 ? [at[0] + move[0], at[1] + move[1]] : [at[0] + move[1] + move[0]];
            if (next.every(function (v, i) { return v >= 0 && v < shape[i]; })) onPick(next, true);
          });
        })(at);
        td.appendChild(b); tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    return table;
  }

  function fmt(v) { return Math.abs(v - Math.round(v)) < 1e-9 ? String(Math.round(v)) : v.toFixed(3); }

  function render() {
    var out = document.getElementById("sc-out");
    out.innerHTML = "";
    var m;
    try { m = model(); } catch (err) {
      out.appendChild(el("p", { class: "sc-error", role: "alert", "data-symconv": "error" }, String(err.message)));
      return;
    }
    var outShape = m.plans.map(function (p) { return p.out; });
    var inShape = m.plans.map(function (p) { return p.i; });
    var sel = parseCell(state.select, outShape) || outShape.map(function () { return 0; });
    var selIn = parseCell(state.select_input, inShape);

    // sizes and formulas
    var info = el("div", { class: "sc-info" });
    var size = el("p", {}, "Output size: ");
    size.appendChild(el("strong", { "data-symconv": "output-size" }, outShape.join("x")));
    info.appendChild(size);
    m.plans.forEach(function (p, ax) {
      var text = m.kind === "transpose"
        ? "o = (i − 1)s − 2p + d(k − 1) + output_padding + 1 = (" + p.i + " − 1)·" + p.s + " − 2·" + p.lo + " + " + p.d + "·(" + p.k + " − 1) + " + m.layers[ax].op + " + 1 = " + p.out
        : (m.kind === "pool" && m.layers[ax].ceil
          ? "o = ⌈(i + 2p − d(k − 1) − 1)/s⌉ + 1 (minus a window starting in the right padding) = " + p.out
          : "o = ⌊(i + p_lo + p_hi − d(k − 1) − 1)/s⌋ + 1 = ⌊(" + p.i + " + " + p.lo + " + " + p.hi + " − " + p.d + "·(" + p.k + " − 1) − 1)/" + p.s + "⌋ + 1 = " + p.out);
      info.appendChild(el("p", { class: "sc-formula", "data-symconv": "formula-" + ax }, "axis " + ax + ": " + text));
    });
    if (m.kind !== "transpose") {
      var unused = m.plans.map(function (p) { return p.unused; });
      var fit = unused.every(function (u) { return u === 0; });
      info.appendChild(el("p", { "data-symconv": "fits" }, fit ? "fits: every padded position is reached"
        : "doesn't fit: " + unused.join("x") + " trailing padded position(s) never reached"));
    } else {
      var eq = m.plans.map(function (p) { return p.equivalent; });
      info.appendChild(el("p", { "data-symconv": "transpose-equivalent" },
        "Equivalent stride-1 convolution: insert " + eq.map(function (e) { return e.zeros; }).join("x") +
        " zero(s) between inputs (" + eq.map(function (e) { return e.stretched; }).join("x") + "), pad " +
        eq.map(function (e) { return "(" + e.lo + ", " + e.hi + ")"; }).join(" x ") + ", flip the kernel."));
    }
    out.appendChild(info);

    // the selected output: its taps, formula and numbers
    var taps = L.reads(m.tables, sel);
    var readSet = {};
    taps.forEach(function (t) { if (t.input) readSet[t.input.join(",")] = 1; });
    var x = imageValues(m), w = kernelValues(m);
    var y = L.forward(m.layers[0].kind === "transpose" ? m.layers[0] : m.layers[0], m.tables, x, w);
    function at(arr, idx) { return idx.reduce(function (v, i) { return v[i]; }, arr); }
    var padText = function (t) {
      if (m.kind === "transpose") return t.input ? "x[" + t.input.join(",") + "]" : "0";
      var p = "x~[" + t.padded.map(function (j) { return j === null ? "·" : j; }).join(",") + "]";
      return t.input ? p + "=x[" + t.input.join(",") + "]" : p + "=0";
    };
    var symbolic = taps.map(function (t) {
      return (m.kind === "pool" ? "" : "w[" + t.tap.join(",") + "]·") + padText(t);
    });
    var joiner = m.kind === "pool" ? (m.layers[0].pool === "max" ? ", " : " + ") : " + ";
    var head = m.kind === "pool" ? (m.layers[0].pool === "max" ? "max(" : "mean(") : "";
    var tail = m.kind === "pool" ? ")" : "";
    out.appendChild(el("p", { class: "sc-formula", "data-symconv": "cell-formula" },
      "y[" + sel.join(",") + "] = " + head + symbolic.join(joiner) + tail));
    var numbers = taps.filter(function (t) { return t.input; }).map(function (t) {
      return m.kind === "pool" ? fmt(at(x, t.input)) : fmt(at(w, t.tap)) + "·" + fmt(at(x, t.input));
    });
    out.appendChild(el("p", { class: "sc-formula", "data-symconv": "cell-numbers" },
      "y[" + sel.join(",") + "] = " + head + (numbers.join(joiner) || "0") + tail + " = " + fmt(at(y, sel))));
    var readLine = el("p", {}, "inputs y[" + sel.join(",") + "] reads: ");
    readLine.appendChild(el("span", { "data-symconv": "reads" }, Object.keys(readSet).sort().join(" ")));
    out.appendChild(readLine);

    var feedSet = {};
    if (selIn) L.feeds(m.tables, m.plans, selIn).forEach(function (o) { feedSet[o.join(",")] = 1; });
    if (selIn) {
      var feedLine = el("p", {}, "outputs x[" + selIn.join(",") + "] feeds: ");
      feedLine.appendChild(el("span", { "data-symconv": "feeds" }, Object.keys(feedSet).sort().join(" ")));
      out.appendChild(feedLine);
    }

    // grids
    var grids = el("div", { class: "sc-grids" });
    var inBox = el("figure", {}); inBox.appendChild(el("figcaption", {}, "input " + inShape.join("x") + " (click: the outputs it feeds)"));
    inBox.appendChild(gridTable(inShape, "input", function (a) { return fmt(at(x, a)); },
      function (a) { var k = a.join(","); return (readSet[k] ? "sc-read " : "") + (selIn && k === selIn.join(",") ? "sc-selected" : ""); },
      function (a, focus) { state.select_input = a.join(","); update(focus ? "input" : null); }, selIn));
    var outBox = el("figure", {}); outBox.appendChild(el("figcaption", {}, "output " + outShape.join("x") + " (click: the inputs it reads)"));
    outBox.appendChild(gridTable(outShape, "output", function (a) { return fmt(at(y, a)); },
      function (a) { var k = a.join(","); return (k === sel.join(",") ? "sc-selected " : "") + (feedSet[k] ? "sc-read" : ""); },
      function (a, focus) { state.select = a.join(","); update(focus ? "output" : null); }, sel));
    var step = el("button", { type: "button", class: "sc-step" }, "next output ▸");
    step.addEventListener("click", function () {
      var flat = sel.reduce(function (acc, v, i) { return acc * outShape[i] + v; }, 0) + 1;
      var total = outShape.reduce(function (a, b) { return a * b; }, 1);
      flat %= total;
      var next = outShape.map(function () { return 0; });
      for (var i = outShape.length - 1; i >= 0; i--) { next[i] = flat % outShape[i]; flat = Math.floor(flat / outShape[i]); }
      state.select = next.join(","); update();
    });
    outBox.appendChild(step);
    grids.appendChild(inBox); grids.appendChild(outBox);
    if (m.kind !== "transpose") grids.appendChild(paddedView(m, readSet, taps));
    out.appendChild(grids);
    out.appendChild(matrixView(m, sel));
  }

  // The padded input: each padding cell shows which real pixel it copies (or 0).
  function paddedView(m, readSet, taps) {
    var box = el("figure", {});
    var shape = m.plans.map(function (p) { return p.padded; });
    box.appendChild(el("figcaption", {}, "padded input " + shape.join("x") + " (" + m.layers[0].mode + ")"));
    var hit = {};
    taps.forEach(function (t) { if (t.padded.every(function (j) { return j !== null; })) hit[t.padded.join(",")] = 1; });
    box.appendChild(gridTable(shape, "padded input", function (a) {
      var src = a.map(function (j, ax) { return L.padIndex(m.layers[ax].mode, j - m.plans[ax].lo, m.plans[ax].i); });
      return src.some(function (v) { return v < 0; }) ? "0" : src.join(",");
    }, function (a) {
      var inside = a.every(function (j, ax) { return j >= m.plans[ax].lo && j < m.plans[ax].lo + m.plans[ax].i; });
      return (inside ? "" : "sc-pad ") + (hit[a.join(",")] ? "sc-read" : "");
    }, function () {}, null));
    return box;
  }

  // The layer's matrix for one channel pair: rows = outputs, columns = inputs (C order).
  function matrixView(m, sel) {
    var box = el("figure", { class: "sc-matrix" });
    var outShape = m.plans.map(function (p) { return p.out; });
    var inShape = m.plans.map(function (p) { return p.i; });
    var R = outShape.reduce(function (a, b) { return a * b; }, 1);
    var C = inShape.reduce(function (a, b) { return a * b; }, 1);
    var nnz = L.nonzeros(m.layers[0], m.plans, m.tables);
    var rowsAll = R * m.cout, colsAll = C * m.cin;
    var cap = el("figcaption", {});
    cap.appendChild(document.createTextNode("matrix " + rowsAll + " x " + colsAll + ", "));
    cap.appendChild(el("strong", { "data-symconv": "nonzeros" }, String(nnz)));
    cap.appendChild(document.createTextNode(" nonzeros (" + (m.dims === 2 ? "doubly block " : "") +
      (m.layers.some(function (l) { return l.mode === "circular"; }) ? "circulant" : "Toeplitz") +
      "; one channel pair drawn, the selected row and column outlined)"));
    box.appendChild(cap);
    var scale = Math.max(1, Math.floor(360 / Math.max(R, C)));
    var canvas = el("canvas", { width: String(C * scale), height: String(R * scale), role: "img",
                                "aria-label": "sparsity of the layer's matrix" });
    var ctx = canvas.getContext("2d");
    var selRow = sel.reduce(function (acc, v, i) { return acc * outShape[i] + v; }, 0);
    var selIn = parseCell(state.select_input, inShape);
    var selCol = selIn ? selIn.reduce(function (acc, v, i) { return acc * inShape[i] + v; }, 0) : -1;
    ctx.fillStyle = "#eef"; ctx.fillRect(0, 0, C * scale, R * scale);
    for (var r = 0; r < R; r++) {
      var idx = [], rest = r;
      for (var i = outShape.length - 1; i >= 0; i--) { idx[i] = rest % outShape[i]; rest = Math.floor(rest / outShape[i]); }
      L.reads(m.tables, idx).forEach(function (t) {
        if (!t.input) return;
        var col = t.input.reduce(function (acc, v, i) { return acc * inShape[i] + v; }, 0);
        ctx.fillStyle = r === selRow || col === selCol ? "#c2185b" : "#303f9f";
        ctx.fillRect(col * scale, r * scale, scale, scale);
      });
    }
    ctx.strokeStyle = "#c2185b";
    ctx.strokeRect(0, selRow * scale, C * scale, scale);
    if (selCol >= 0) ctx.strokeRect(selCol * scale, 0, scale, R * scale);
    box.appendChild(canvas);
    return box;
  }

  var focusAfter = null;
  function update(focus) {
    focusAfter = focus || null;
    writeState();
    render();
    if (focusAfter) {
      var sel = focusAfter === "input" ? state.select_input : state.select;
      var b = root.querySelector('table[aria-label="' + focusAfter + '"] [data-at="' + sel + '"]');
      if (b) b.focus();
    }
  }

  readState();
  root.appendChild(controls());
  root.appendChild(el("div", { id: "sc-out", "aria-live": "polite" }));
  render();
})();
