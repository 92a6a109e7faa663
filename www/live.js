// written by han-log
// The live page of han-log. Reads data/current.json (the latest stream line,
// contract v1) every 2 s and data/today.json (today's minutes) every 10 s,
// without reloading. Fields absent from a line are not sent by the meter in
// that list: the page keeps showing the last value seen of each field. The
// meter reading (energy registers, sent hourly by Norwegian meters) comes
// from han-log's `last_registers` in current.json, with its own time.
(function () {
  "use strict";
  var POLL_MS = 2000, TODAY_MS = 10000, STALE_MS = 30000, FETCH_TIMEOUT_MS = 5000;
  var DASH = "–";

  var seen = {};          // last value seen of each field of current.json
  var seenAt = {};        // received (ms) of the line each field came with
  var regs = null;        // the registers shown: {meter_time, received, energy_import_kwh, ...}
  var receivedMs = NaN;   // `received` of the latest line
  var lastText = null, changedAt = 0; // when current.json last changed (for lines without `received`)
  var skew = 0;           // server clock minus browser clock, from the Date header
  var fetchError = null;  // why current.json could not be read, or null
  var today = null, todayError = null, lastTodayFetch = -Infinity, lastWidth = 0;
  var zone;               // the meter's time zone (today.json `tz`), kept when today.json goes

  function $(id) { return document.getElementById(id); }
  function set(id, text) { var e = $(id); if (e && e.textContent !== text) e.textContent = text; }
  function num(x) { return typeof x === "number" && isFinite(x); }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  var numFmts = {};
  function fmt(x, digits) {
    var f = numFmts[digits];
    if (!f) f = numFmts[digits] = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return f.format(x);
  }
  function fmtMax(x, digits) {
    var key = "max" + digits, f = numFmts[key];
    if (!f) f = numFmts[key] = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits });
    return f.format(x);
  }
  function watts(w) {
    if (!num(w)) return DASH;
    var a = Math.abs(w);
    if (a < 1000) return fmt(w, 0) + " W";
    return fmt(w / 1000, a < 10000 ? 2 : 1) + " kW";
  }
  function axisWatts(w) {
    return w < 1000 ? fmtMax(w, 0) + " W" : fmtMax(w / 1000, 1) + " kW";
  }
  function kwh(x) { return num(x) ? fmt(x, Math.abs(x) < 100 ? 2 : 1) + " kWh" : DASH; }
  function unit(x, digits, u) { return num(x) ? fmt(x, digits) + " " + u : DASH; }

  var timeFmt = null, timeFmtZone;
  function clock(ms) {
    if (!timeFmt || timeFmtZone !== zone) {
      var o = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
      try { timeFmt = new Intl.DateTimeFormat(undefined, zone ? Object.assign({ timeZone: zone }, o) : o); }
      catch (e) { timeFmt = new Intl.DateTimeFormat(undefined, o); }
      timeFmtZone = zone;
    }
    return timeFmt.format(new Date(ms));
  }
  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  function fetchJson(url, cache, useDate) {
    var ctl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : 0;
    return fetch(url, { cache: cache, signal: ctl ? ctl.signal : undefined }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      var date = Date.parse(r.headers.get("Date") || "");
      // The Date header has whole seconds: the server's clock is half a second later on average.
      if (useDate && isFinite(date)) skew = date + 500 - Date.now();
      return r.text();
    }).finally(function () { clearTimeout(timer); });
  }

  function isRegister(k) { return /^(reactive_)?energy_/.test(k); }

  // The registers of a line: its own (they are the newest), else the last
  // ones han-log kept (`last_registers`), else none.
  function registersOf(line) {
    var own = null;
    for (var k in line) {
      if (has(line, k) && isRegister(k) && num(line[k])) {
        if (!own) own = { meter_time: line.meter_time, received: line.received };
        own[k] = line[k];
      }
    }
    var kept = line.last_registers;
    return own || (kept !== null && typeof kept === "object" ? kept : null);
  }

  function merge(line) {
    if (has(line, "meter_id") && has(seen, "meter_id") && line.meter_id !== seen.meter_id) { seen = {}; seenAt = {}; regs = null; }
    receivedMs = Date.parse(line.received || "");
    for (var k in line) if (has(line, k) && k !== "last_registers") { seen[k] = line[k]; seenAt[k] = receivedMs; }
    regs = registersOf(line) || regs;
  }

  var dateFmt = null, dateFmtZone;
  // YYYY-MM-DD of an instant in the meter's zone.
  function localDate(ms) {
    if (!dateFmt || dateFmtZone !== zone) {
      var o = { year: "numeric", month: "2-digit", day: "2-digit" };
      try { dateFmt = new Intl.DateTimeFormat("en-CA", zone ? Object.assign({ timeZone: zone }, o) : o); }
      catch (e) { dateFmt = new Intl.DateTimeFormat("en-CA", o); }
      dateFmtZone = zone;
    }
    var p = {};
    dateFmt.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day;
  }

  // "at 14:00" (the meter's clock as it states it, else when it was
  // received), with the date when it is not the latest reading's day.
  function readAt(r) {
    var m = /^(\d{4}-\d\d-\d\d)T(\d\d):(\d\d):(\d\d)/.exec(r.meter_time || ""), day, time;
    if (m) {
      day = m[1];
      time = m[2] + ":" + m[3] + (m[4] !== "00" ? ":" + m[4] : "");
    } else {
      var ms = Date.parse(r.received || "");
      if (!isFinite(ms)) return "";
      day = localDate(ms);
      time = clock(ms);
    }
    var now = /^\d{4}-\d\d-\d\d/.exec(String(seen.meter_time || ""));
    var ref = now ? now[0] : isFinite(receivedMs) ? localDate(receivedMs) : day;
    return "at " + (day !== ref ? day + " " : "") + time;
  }

  function phasePower(i) {
    var imp = seen["power_import_l" + i + "_w"], exp = seen["power_export_l" + i + "_w"];
    if (num(imp) && num(exp)) return imp - exp;
    if (num(imp)) return imp;
    if (num(exp)) return -exp;
    return NaN;
  }

  function renderCurrent() {
    set("power-import", watts(seen.power_import_w));
    set("power-export", watts(seen.power_export_w));
    for (var i = 1; i <= 3; i++) {
      set("voltage-l" + i, unit(seen["voltage_l" + i + "_v"], 1, "V"));
      set("current-l" + i, unit(seen["current_l" + i + "_a"], seen["current_l" + i + "_a"] < 10 ? 2 : 1, "A"));
      set("power-l" + i, watts(phasePower(i)));
    }
    set("meter-id", seen.meter_id || DASH);
    var model = [seen.manufacturer, seen.meter_model].filter(Boolean).join(" ");
    set("meter-model", model ? model + (seen.list ? " · list " + seen.list : "") : DASH);
    var mt = seen.meter_time ? String(seen.meter_time).replace("T", " ") : DASH;
    // A clock that came with an earlier line (some lists carry none) says when it was read.
    if (seen.meter_time && seenAt.meter_time !== receivedMs && isFinite(seenAt.meter_time)) {
      mt += " (read at " + clock(seenAt.meter_time) + ")";
    }
    set("meter-time", mt);
    set("energy-import-meter", kwh(regs && regs.energy_import_kwh));
    set("meter-reading-time", regs ? readAt(regs) : "");
    var exp = regs && regs.energy_export_kwh, rows = document.querySelectorAll(".export-reading");
    set("energy-export-meter", kwh(exp));
    for (var r = 0; r < rows.length; r++) rows[r].hidden = !num(exp);
  }

  function renderAge() {
    var age = isFinite(receivedMs) ? Date.now() + skew - receivedMs : changedAt ? Date.now() - changedAt : NaN;
    if (isFinite(age)) {
      set("last-reading", ago(age) + " · " + clock(isFinite(receivedMs) ? receivedMs : changedAt));
    }
    var msg = null;
    if (fetchError) msg = "Cannot read data/current.json (" + fetchError + ")" + (lastText ? ": showing the last values." : ".");
    else if (lastText === null) msg = null;
    else if (!isFinite(age)) msg = null;
    else if (age > STALE_MS) msg = "No new reading for " + ago(age).replace(" ago", "") + ": is han\u2011log running?";
    var banner = $("stale");
    if (msg) set("stale", msg);
    banner.hidden = !msg;
    document.body.classList.toggle("is-stale", !!msg);
  }

  function pollCurrent() {
    return fetchJson("data/current.json", "no-store", true).then(function (text) {
      fetchError = null;
      if (text !== lastText) {
        var line = JSON.parse(text);
        if (line === null || typeof line !== "object") throw new Error("not a JSON object");
        lastText = text;
        changedAt = Date.now();
        merge(line);
        renderCurrent();
      }
    }).catch(function (e) {
      fetchError = e && e.name === "AbortError" ? "timed out" : e && e.message ? e.message : String(e);
    });
  }

  function pollToday() {
    lastTodayFetch = Date.now();
    // no-cache: revalidated each time, so an unchanged file costs a 304.
    return fetchJson("data/today.json", "no-cache", false).then(function (text) {
      today = JSON.parse(text);
      todayError = null;
      if (today && typeof today.tz === "string") zone = today.tz;
    }).catch(function (e) {
      today = null;
      todayError = e && e.message ? e.message : String(e);
    }).then(renderToday);
  }

  function renderToday() {
    set("today-date", today && today.date ? today.date : "");
    set("energy-import-today", kwh(today && today.energy_import_kwh));
    set("energy-export-today", kwh(today && today.energy_export_kwh));
    drawChart();
  }

  // A round scale top: 1, 2, 2.5 or 5 times a power of ten, at least v.
  function nice(v) {
    if (!(v > 0)) return 0;
    var p = Math.pow(10, Math.floor(Math.log10(v))), steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  var SVGNS = "http://www.w3.org/2000/svg";
  function el(parent, name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) if (has(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  var hourFmt = null, hourFmtZone;
  function hourOf(ms, tz) {
    try {
      if (!hourFmt || hourFmtZone !== tz) {
        hourFmt = new Intl.DateTimeFormat("en-GB", { hour: "numeric", hourCycle: "h23", timeZone: tz });
        hourFmtZone = tz;
      }
      var parts = hourFmt.formatToParts(new Date(ms));
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "hour") return parseInt(parts[i].value, 10) % 24;
    } catch (e) { /* unknown zone: fall through */ }
    return NaN;
  }

  function drawChart() {
    var svg = $("chart"), note = $("chart-note");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var t0 = today ? Date.parse(today.start) : NaN, t1 = today ? Date.parse(today.end) : NaN;
    var mins = today && Array.isArray(today.minutes) ? today.minutes : [];
    if (!(t1 > t0)) {
      svg.setAttribute("viewBox", "0 0 1 1");
      svg.style.display = "none";
      note.textContent = todayError === "HTTP 404" ? "No chart yet: han\u2011log has not written data/today.json."
        : todayError ? "No chart: data/today.json cannot be read (" + todayError + ")." : "No data for today yet.";
      note.hidden = false;
      return;
    }
    svg.style.display = "";
    note.hidden = true;
    lastWidth = svg.getBoundingClientRect().width;
    var W = Math.max(260, Math.round(lastWidth) || 360);
    var H = Math.round(Math.min(280, Math.max(160, W * 0.5)));
    var L = 46, R = 6, T = 8, B = 20, pw = W - L - R, ph = H - T - B;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);

    var maxI = 0, maxE = 0;
    mins.forEach(function (m) {
      if (num(m.import_w) && m.import_w > maxI) maxI = m.import_w;
      if (num(m.export_w) && m.export_w > maxE) maxE = m.export_w;
    });
    // Export (down) on the same scale as import (up), but never a sliver.
    var top = nice(maxI) || 1000, bottom = maxE > 0 ? Math.max(nice(maxE), nice(top / 5)) : 0;
    var y0 = T + ph * top / (top + bottom);
    function X(ms) { return L + pw * (ms - t0) / (t1 - t0); }
    function Y(w) { return y0 - (y0 - T) * w / top; }
    function YE(w) { return y0 + (T + ph - y0) * w / bottom; }

    // Hour ticks, labelled in the day's zone (a DST day has 23 or 25 of them).
    var step = W < 520 ? 3 : W < 800 ? 2 : 1;
    for (var t = t0, k = 0; t <= t1; t += 3600000, k++) {
      var h = hourOf(t, today.tz);
      if (!isFinite(h)) h = k % 24;
      var x = X(t).toFixed(1), labelled = h % step === 0 && t < t1;
      el(svg, "line", { "class": labelled ? "grid" : "grid minor", x1: x, x2: x, y1: T, y2: T + ph, "stroke-opacity": labelled ? 1 : 0.4 });
      if (labelled) el(svg, "text", { x: x, y: H - 5, "text-anchor": "middle" }, (h < 10 ? "0" : "") + h);
    }

    // One vertical stroke per minute: gaps stay gaps.
    var bw = Math.max(1, pw * 60000 / (t1 - t0)), di = [], de = [];
    mins.forEach(function (m) {
      var tm = Date.parse(m.t);
      if (!isFinite(tm) || tm < t0 || tm >= t1) return;
      var x = X(tm + 30000).toFixed(1);
      if (num(m.import_w) && m.import_w > 0) di.push("M" + x + " " + y0.toFixed(1) + "V" + Y(m.import_w).toFixed(1));
      if (num(m.export_w) && m.export_w > 0) de.push("M" + x + " " + y0.toFixed(1) + "V" + YE(m.export_w).toFixed(1));
    });
    if (di.length) el(svg, "path", { "class": "imp", d: di.join(""), "stroke-width": bw.toFixed(2), fill: "none" });
    if (de.length) el(svg, "path", { "class": "exp", d: de.join(""), "stroke-width": bw.toFixed(2), fill: "none" });

    el(svg, "line", { "class": "axis", x1: L, x2: L + pw, y1: y0.toFixed(1), y2: y0.toFixed(1) });
    el(svg, "line", { "class": "axis", x1: L, x2: L, y1: T, y2: T + ph });
    el(svg, "text", { x: L - 4, y: T + 9, "text-anchor": "end" }, axisWatts(top));
    el(svg, "text", { x: L - 4, y: (y0 + 4).toFixed(1), "text-anchor": "end" }, "0");
    if (bottom > 0) el(svg, "text", { "class": "exp", x: L - 4, y: T + ph, "text-anchor": "end" }, "−" + axisWatts(bottom));

    var now = Date.now() + skew;
    if (now > t0 && now < t1) el(svg, "line", { "class": "nowline", x1: X(now).toFixed(1), x2: X(now).toFixed(1), y1: T, y2: T + ph });
    if (!mins.length) { note.textContent = "No readings yet today."; note.hidden = false; }
  }

  // Once, at load: the last reading with the per-phase values (han-log's
  // data/last-full.json), so a page opened between two full lists shows
  // them at once; current.json, merged after it, wins.
  var seeded = false;
  function seed() {
    seeded = true;
    return fetchJson("data/last-full.json", "no-store", false).then(function (text) {
      var line = JSON.parse(text);
      if (line !== null && typeof line === "object" && lastText === null) merge(line);
    }).catch(function () { /* none yet: current.json alone */ });
  }

  var busy = false;
  function tick() {
    if (document.hidden || busy) return;
    busy = true;
    (seeded ? Promise.resolve() : seed()).then(function () {
      var jobs = [pollCurrent()];
      if (Date.now() - lastTodayFetch >= TODAY_MS) jobs.push(pollToday());
      return Promise.all(jobs);
    }).then(function () { busy = false; renderAge(); });
  }

  window.addEventListener("resize", function () {
    var w = $("chart").getBoundingClientRect().width;
    if (today && Math.abs(w - lastWidth) > 20) { lastWidth = w; drawChart(); }
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  tick();
  setInterval(tick, POLL_MS);
})();
