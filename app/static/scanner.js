// The shelf scanner's page side (loaded by index.html; the CSP allows no
// eval). It only turns camera frames and picked photos into grayscale
// bytes for Rust (app/src/screens/scan.rs) and hands them over one at a
// time; decoding and everything after is Rust.
(function () {
let send = () => {};
const side = 960;
if (!window.__pustakaScanInstalled) {
  window.__pustakaScanInstalled = true;
  document.addEventListener('change', (e) => {
    const file = e.target;
    if (!file || file.id !== 'scan-file' || !file.files || !file.files[0]) return;
    const r = new FileReader();
    r.onload = () => send({ kind: 'picture', data: String(r.result).split(',')[1] || '' });
    r.readAsDataURL(file.files[0]);
  });
}
let stream = null, n = 0, stopping = false, waiting = null;
// One receiver: the screen's commands, handed to the camera loop when it
// waits for the answer to its last frame.
const answer = () => new Promise(r => { waiting = r; });
const canvas = document.createElement('canvas');
const g = canvas.getContext('2d', { willReadFrequently: true });
function gray(w, h) {
  const px = g.getImageData(0, 0, w, h).data;
  const out = new Uint8Array(w * h);
  for (let i = 0, j = 0; j < out.length; i += 4, j++)
    out[j] = (px[i] * 299 + px[i + 1] * 587 + px[i + 2] * 114) / 1000;
  let s = '';
  for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode.apply(null, out.subarray(i, i + 0x8000));
  return btoa(s);
}
async function camera() {
  const video = document.getElementById('scan-video');
  if (!video || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    send({ kind: 'nocamera' });
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (e) {
    send({ kind: 'nocamera' });
    return;
  }
  video.srcObject = stream;
  await video.play();
  stopping = false;
  while (stream && !stopping) {
    const vw = video.videoWidth, vh = video.videoHeight;
    if (vw && vh) {
      const k = Math.min(1, side / Math.max(vw, vh));
      const w = Math.round(vw * k), h = Math.round(vh * k);
      canvas.width = w; canvas.height = h;
      g.drawImage(video, 0, 0, w, h);
      send({ kind: 'frame', w, h, data: gray(w, h), n: n++ });
      const next = await answer();
      if (next === 'stop') break;
    }
    await new Promise(r => setTimeout(r, 150));
  }
  if (stream) stream.getTracks().forEach(t => t.stop());
  stream = null;
  video.srcObject = null;
}
window.pustakaScanner = {
  // The current scanner screen's handler for pictures and frames.
  attach(handler) { send = handler; },
  command(cmd) {
    if (cmd === 'start') {
      if (!stream) camera();
    } else if (waiting) {
      const w = waiting; waiting = null; w(cmd);
    } else if (cmd === 'stop') {
      stopping = true;
    }
  },
};
})();
