// The ground map: satellite tiles from the gateway, the live estimated track, the current
// fix with its 95% radius and its frame's footprint, the ground-truth track when fixes carry
// one (replay), and a status line. A click on a fix (the track, the marker or the footprint)
// draws that fix's footprint and the matched points its registration rests on. It reconnects
// by itself and subscribes again after every reconnect.
(function () {
  'use strict';

  const RECONNECT_FIRST_MS = 500;
  const RECONNECT_MAX_MS = 5000;
  /** Points kept per track line; older ones fall off, a block at a time, so a long flight stays light. */
  const MAX_TRACK_POINTS = 20000;
  const TRIM_POINTS = 2000;
  /** Without imagery or following, the map centres on the first fix at this zoom. */
  const FIRST_FIX_ZOOM = 15;
  /** Following a flight zooms in this far on its first fix (about 1 km across). */
  const FOLLOW_ZOOM = 17;
  const FOLLOW_PADDING_PX = 40;
  /** Fixes over which the arrival rate is measured when fixes carry no fps of their own. */
  const RATE_WINDOW = 20;
  const ESTIMATE_COLOUR = '#00b4ff';
  const TRUTH_COLOUR = '#ffd000';
  const LOST_COLOUR = '#9aa0a6';
  const FOOTPRINT_COLOUR = '#ff9f0a';
  const SELECTED_COLOUR = '#ff2d55';
  /** A click on the track picks the nearest fix within this many screen pixels. */
  const PICK_RADIUS_PX = 24;
  const CASING_COLOUR = '#000000';
  const CASING_EXTRA_PX = 3;
  const CASING_OPACITY = 0.45;
  const FALLBACK_VIEW = { center: [0, 0], zoom: 2 };

  const params = new URLSearchParams(window.location.search);
  const token = params.get('token');
  const statusEl = document.getElementById('status');
  const flightSelect = document.getElementById('flight');
  const followBox = document.getElementById('follow');

  const map = L.map('map', { zoomControl: true, attributionControl: true, zoomSnap: 0.25 }).setView(FALLBACK_VIEW.center, FALLBACK_VIEW.zoom);
  const track = casedLine({ color: ESTIMATE_COLOUR, weight: 3, opacity: 0.95 });
  const truthTrack = casedLine({ color: TRUTH_COLOUR, weight: 2.5, dashArray: '7 6', opacity: 0.95 });
  const errorLine = L.polyline([], { color: '#ffffff', weight: 1, opacity: 0.7 }).addTo(map);
  const radius = L.circle([0, 0], { radius: 0, color: ESTIMATE_COLOUR, weight: 1.5, fillOpacity: 0.15, interactive: false });
  const footprint = L.polygon([], { color: FOOTPRINT_COLOUR, weight: 2, fillOpacity: 0.08 });
  const marker = L.circleMarker([0, 0], { radius: 7, color: '#ffffff', weight: 2, fillColor: ESTIMATE_COLOUR, fillOpacity: 1 });
  /** the fix picked by a click: its footprint and matched points */
  const selectedFootprint = L.polygon([], { color: SELECTED_COLOUR, weight: 2, fill: false, dashArray: '5 4', interactive: false });
  const matchedPoints = L.layerGroup();
  footprint.on('click', () => state.last && selectFix(state.fixes.find((f) => f.frame === state.last.properties.frame)));
  marker.on('click', () => state.last && selectFix(state.fixes.find((f) => f.frame === state.last.properties.frame)));
  addLegend();

  const state = {
    flight: params.get('flight') || '',
    socket: null,
    connected: false,
    reconnectDelay: RECONNECT_FIRST_MS,
    fixes: [],
    last: null,
    arrivals: [],
    centred: false,
    zoomedIn: false,
    /** the fix picked by a click, and what its matched points request said */
    selected: null,
    selection: '',
  };

  fetch('/api/imagery')
    .then((res) => res.json())
    .then(({ imagery }) => {
      if (!imagery) return;
      const b = imagery.bounds;
      const bounds = L.latLngBounds([b.south, b.west], [b.north, b.east]);
      L.tileLayer('/tiles/{z}/{x}/{y}.png', {
        minZoom: imagery.minZoom,
        maxNativeZoom: imagery.nativeZoom,
        maxZoom: imagery.maxZoom,
        bounds,
        attribution: `imagery: ${escapeHtml(imagery.name)} (${imagery.metersPerPixel.toFixed(2)} m/px)`,
      }).addTo(map);
      map.setMaxZoom(imagery.maxZoom);
      if (!state.zoomedIn) map.fitBounds(bounds);
      state.centred = true;
    })
    .catch(() => setStatus('imagery description unavailable'));

  flightSelect.addEventListener('change', () => switchFlight(flightSelect.value));
  track.line.on('click', (event) => selectFix(nearestFix(event.containerPoint)));

  connect();

  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws${query}`);
    state.socket = socket;
    socket.addEventListener('open', () => {
      state.connected = true;
      state.reconnectDelay = RECONNECT_FIRST_MS;
      if (state.flight) send({ type: 'subscribe', flight: state.flight });
      renderStatus();
    });
    socket.addEventListener('message', (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener('close', () => {
      state.connected = false;
      state.socket = null;
      const delay = state.reconnectDelay;
      state.reconnectDelay = Math.min(RECONNECT_MAX_MS, state.reconnectDelay * 2);
      setStatus(`disconnected — reconnecting in ${(delay / 1000).toFixed(1)} s`, true);
      setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
    });
  }

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
  }

  function onMessage(message) {
    switch (message.type) {
      case 'Feature':
        if (message.properties.flight === state.flight) addFix(message);
        break;
      case 'snapshot':
        if (message.flight === state.flight) applySnapshot(message.features);
        break;
      case 'flights':
        listFlights(message.flights);
        break;
      case 'error':
        setStatus(`${message.code}: ${message.message}`, true);
        break;
    }
  }

  function listFlights(flights) {
    const names = flights.map((f) => f.flight);
    if (state.flight && !names.includes(state.flight)) names.unshift(state.flight);
    flightSelect.replaceChildren(...names.map((name) => new Option(name, name, false, name === state.flight)));
    if (!state.flight && names.length > 0) switchFlight(names[0]);
  }

  function switchFlight(flight) {
    if (flight === state.flight) return;
    if (state.flight) send({ type: 'unsubscribe', flight: state.flight });
    state.flight = flight;
    flightSelect.value = flight;
    clearTrack();
    state.zoomedIn = false;
    send({ type: 'subscribe', flight });
    renderStatus();
  }

  function clearTrack() {
    state.fixes = [];
    redrawTracks();
    errorLine.setLatLngs([]);
    marker.remove();
    radius.remove();
    footprint.remove();
    clearSelection();
    state.last = null;
    state.arrivals = [];
  }

  function redrawTracks() {
    track.setLatLngs(state.fixes.map((f) => f.here));
    truthTrack.setLatLngs(state.fixes.filter((f) => f.truth).map((f) => f.truth));
  }

  /** After a reconnect the snapshot may overlap what is drawn: it replaces the overlap. */
  function applySnapshot(features) {
    if (features.length === 0) return;
    const first = features[0].properties.frame;
    const overlap = state.fixes.findIndex((f) => f.frame >= first);
    if (overlap >= 0) {
      state.fixes.length = overlap;
      redrawTracks();
    }
    features.forEach((f) => addFix(f, true));
    const [lon, lat] = features[features.length - 1].geometry.coordinates;
    follow(L.latLng(lat, lon));
    renderStatus();
  }

  function addFix(feature, fromSnapshot) {
    const p = feature.properties;
    const previous = state.fixes[state.fixes.length - 1];
    // A frame number going backwards means the flight started over (a new replay); the same
    // number again is one video frame sampled twice (asked for more fps than the video has).
    if (previous && p.frame < previous.frame) clearTrack();
    const [lon, lat] = feature.geometry.coordinates;
    const here = L.latLng(lat, lon);
    const truth = p.truth && Number.isFinite(p.truth.lat) && Number.isFinite(p.truth.lon) ? L.latLng(p.truth.lat, p.truth.lon) : null;
    const evidence = p.evidence || {};
    const outline = footprintLatLngs(evidence.footprint);
    state.fixes.push({ frame: p.frame, here, truth, outline, matches: evidence.matches || 0, why: evidence.registrationFailed || evidence.footprintMissing || '' });
    if (state.fixes.length > MAX_TRACK_POINTS) {
      state.fixes.splice(0, TRIM_POINTS);
      redrawTracks();
    } else {
      track.addLatLng(here);
      if (truth) truthTrack.addLatLng(truth);
    }
    errorLine.setLatLngs(truth ? [here, truth] : []);
    const colour = p.lost ? LOST_COLOUR : ESTIMATE_COLOUR;
    marker.setLatLng(here).setStyle({ fillColor: colour }).addTo(map);
    radius.setLatLng(here).setRadius(Math.max(0, p.radiusM || 0)).setStyle({ color: colour }).addTo(map);
    if (outline) footprint.setLatLngs(outline).addTo(map);
    else footprint.remove();
    state.last = feature;
    if (fromSnapshot) return;
    state.arrivals = state.arrivals.concat(performance.now()).slice(-RATE_WINDOW);
    follow(here);
    renderStatus();
  }

  /** A GeoJSON Polygon's outer ring as Leaflet points (its closing point dropped), or null. */
  function footprintLatLngs(polygon) {
    if (!polygon || polygon.type !== 'Polygon' || !Array.isArray(polygon.coordinates) || !Array.isArray(polygon.coordinates[0])) return null;
    return polygon.coordinates[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
  }

  function nearestFix(point) {
    let best = null;
    let bestPx = PICK_RADIUS_PX;
    for (const fix of state.fixes) {
      const d = map.latLngToContainerPoint(fix.here).distanceTo(point);
      if (d <= bestPx) {
        best = fix;
        bestPx = d;
      }
    }
    return best;
  }

  function clearSelection() {
    state.selected = null;
    state.selection = '';
    selectedFootprint.remove();
    matchedPoints.clearLayers().remove();
  }

  /** Draws a fix's footprint and fetches its matched points (kept by the gateway for recent registered fixes). */
  function selectFix(fix) {
    if (!fix) return;
    clearSelection();
    state.selected = fix;
    if (fix.outline) selectedFootprint.setLatLngs(fix.outline).addTo(map);
    if (fix.matches === 0) {
      state.selection = `frame ${fix.frame}: no matched points${fix.why ? ` (${fix.why})` : ''}`;
      renderStatus();
      return;
    }
    state.selection = `frame ${fix.frame}: fetching matched points…`;
    renderStatus();
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    fetch(`/api/flights/${encodeURIComponent(state.flight)}/fixes/${fix.frame}/matches${query}`)
      .then((res) => res.json().then((body) => ({ ok: res.ok, body })))
      .then(({ ok, body }) => {
        if (state.selected !== fix) return;
        if (!ok) {
          state.selection = `frame ${fix.frame}: ${body.code}`;
        } else {
          for (const p of body.points) {
            L.circleMarker([p.lat, p.lon], { radius: 3.5, color: '#000000', weight: 1, fillColor: SELECTED_COLOUR, fillOpacity: 1, interactive: false }).addTo(matchedPoints);
          }
          matchedPoints.addTo(map);
          state.selection = `frame ${fix.frame}: ${body.points.length} matched points`;
        }
        renderStatus();
      })
      .catch(() => {
        state.selection = `frame ${fix.frame}: matched points unavailable`;
        renderStatus();
      });
  }

  /** Following: zoom in on the flight's first fix, then keep the fix in view. */
  function follow(here) {
    if (!followBox.checked) {
      if (!state.centred) map.setView(here, FIRST_FIX_ZOOM);
      state.centred = true;
      return;
    }
    if (!state.zoomedIn) {
      state.zoomedIn = true;
      state.centred = true;
      map.setView(here, Math.max(map.getZoom(), FOLLOW_ZOOM));
      return;
    }
    map.panInside(here, { padding: [FOLLOW_PADDING_PX, FOLLOW_PADDING_PX] });
  }

  function arrivalRate() {
    const a = state.arrivals;
    if (a.length < 2) return undefined;
    return ((a.length - 1) * 1000) / (a[a.length - 1] - a[0]);
  }

  function statusFields() {
    const p = state.last ? state.last.properties : null;
    const fps = p && Number.isFinite(p.fps) ? p.fps : arrivalRate();
    const emitted = p ? (Number.isFinite(p.emittedAt) ? p.emittedAt : p.sentAt) : undefined;
    return {
      connected: state.connected,
      flight: state.flight,
      frame: p ? p.frame : undefined,
      t: p ? p.t : undefined,
      fps,
      confidence: p ? p.confidence : undefined,
      radiusM: p ? p.radiusM : undefined,
      errorM: p && Number.isFinite(p.errorM) ? p.errorM : undefined,
      lagMs: Number.isFinite(emitted) ? Date.now() - emitted : undefined,
      lost: p ? Boolean(p.lost) : false,
      fixes: state.fixes.length,
    };
  }

  function renderStatus() {
    const s = statusFields();
    if (!s.connected) return;
    if (s.frame === undefined) {
      setStatus(s.flight ? `live · ${s.flight} · waiting for fixes` : 'live · waiting for flights');
      return;
    }
    const parts = [
      `live · ${s.flight}`,
      `t ${s.t.toFixed(1)} s`,
      `fps ${s.fps === undefined ? '–' : s.fps.toFixed(1)}`,
      `conf ${(s.confidence * 100).toFixed(0)}%`,
      `r95 ${s.radiusM.toFixed(0)} m`,
      s.errorM === undefined ? null : `err ${s.errorM.toFixed(0)} m`,
      `lag ${s.lagMs === undefined ? '–' : s.lagMs.toFixed(0)} ms`,
      s.lost ? 'LOST' : null,
      state.selection || null,
    ];
    setStatus(parts.filter(Boolean).join(' · '));
  }

  function setStatus(text, offline) {
    statusEl.textContent = text;
    statusEl.classList.toggle('offline', Boolean(offline));
  }

  /** A line drawn over a dark casing, so it stays visible on bright and dark imagery alike. */
  function casedLine(style) {
    const casing = L.polyline([], { color: CASING_COLOUR, weight: style.weight + CASING_EXTRA_PX, opacity: CASING_OPACITY, interactive: false }).addTo(map);
    const line = L.polyline([], style).addTo(map);
    return {
      line,
      setLatLngs: (points) => [casing, line].forEach((l) => l.setLatLngs(points)),
      addLatLng: (point) => [casing, line].forEach((l) => l.addLatLng(point)),
    };
  }

  function addLegend() {
    const legend = L.control({ position: 'bottomleft' });
    legend.onAdd = () => {
      const div = L.DomUtil.create('div', 'legend');
      div.innerHTML = '<div><i class="estimate"></i>estimated track</div><div><i class="truth"></i>ground truth</div><div><i class="radius"></i>95% radius</div><div><i class="footprint"></i>frame footprint (click a fix: its matched points)</div>';
      return div;
    };
    legend.addTo(map);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  // Read-only hooks for the browser test.
  window.geolocMap = Object.freeze({
    trackLength: () => state.fixes.length,
    truthLength: () => state.fixes.filter((f) => f.truth).length,
    markerLatLng: () => (state.last ? { lat: marker.getLatLng().lat, lon: marker.getLatLng().lng } : null),
    radiusM: () => radius.getRadius(),
    footprint: () => (map.hasLayer(footprint) ? footprint.getLatLngs()[0].map((p) => ({ lat: p.lat, lon: p.lng })) : null),
    footprintCentre: () => {
      if (!map.hasLayer(footprint)) return null;
      const c = map.latLngToContainerPoint(footprint.getBounds().getCenter());
      const box = map.getContainer().getBoundingClientRect();
      return { x: box.left + c.x, y: box.top + c.y };
    },
    selectedFrame: () => (state.selected ? state.selected.frame : null),
    matchedPoints: () => matchedPoints.getLayers().map((m) => ({ lat: m.getLatLng().lat, lon: m.getLatLng().lng })),
    status: () => Object.assign(statusFields(), { text: statusEl.textContent }),
    tileCount: () => document.querySelectorAll('.leaflet-tile-loaded').length,
  });
})();
