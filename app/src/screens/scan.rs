//! The shelf scanner: the camera's frames (or a photo taken or picked)
//! go to Rust, where `pustaka-scan` reads QR labels and ISBN barcodes; a
//! code opens its title, from the library or, offline, from this device.
//! A copy's label offers self-checkout while online.
//!
//! The camera and file reading are the page's (a small script run with
//! `document::eval`, which hands frames over one at a time and waits for
//! the answer, so frames never pile up); everything else is Rust.

use dioxus::prelude::*;
use pustaka_ipc::{
    CodeTarget, IpcError, ResolveCode, ScanFrame, ScanPicture, Scanned, ScannedCode, SelfCheckout,
};
use serde::Deserialize;

use super::ScreenHead;
use crate::components::ErrorBox;
use crate::{Notice, Route, T, use_backend, use_ctx};

/// Frames at most this wide or tall (the scanner downscales further).
const FRAME_SIDE: u32 = 960;

const SCRIPT: &str = r#"
const side = __SIDE__;
let stream = null, n = 0;
const video = document.getElementById('scan-video');
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
const file = document.getElementById('scan-file');
if (file) file.addEventListener('change', () => {
  const f = file.files && file.files[0];
  if (!f) return;
  const r = new FileReader();
  r.onload = () => dioxus.send({ kind: 'picture', data: String(r.result).split(',')[1] || '' });
  r.readAsDataURL(f);
});
async function camera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    dioxus.send({ kind: 'nocamera' });
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (e) {
    dioxus.send({ kind: 'nocamera' });
    return;
  }
  video.srcObject = stream;
  await video.play();
  while (stream) {
    const vw = video.videoWidth, vh = video.videoHeight;
    if (vw && vh) {
      const k = Math.min(1, side / Math.max(vw, vh));
      const w = Math.round(vw * k), h = Math.round(vh * k);
      canvas.width = w; canvas.height = h;
      g.drawImage(video, 0, 0, w, h);
      dioxus.send({ kind: 'frame', w, h, data: gray(w, h), n: n++ });
      const next = await dioxus.recv();
      if (next === 'stop') break;
    }
    await new Promise(r => setTimeout(r, 150));
  }
  if (stream) stream.getTracks().forEach(t => t.stop());
  stream = null;
  video.srcObject = null;
}
while (true) {
  const cmd = await dioxus.recv();
  if (cmd === 'start' && !stream) camera();
}
"#;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FromPage {
    Picture {
        data: String,
    },
    Frame {
        w: u32,
        h: u32,
        data: String,
        n: u64,
    },
    /// No camera API, or the patron said no: the photo input remains.
    Nocamera,
}

/// What the scanner shows under the camera.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanState {
    Idle,
    Looking,
    Nothing,
    Found(Vec<(ScannedCode, Result<CodeTarget, IpcError>)>),
    Failed(IpcError),
}

#[component]
pub fn Scan() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let mut state = use_signal(|| ScanState::Idle);
    let mut camera_on = use_signal(|| false);
    let mut no_camera = use_signal(|| false);
    let page = use_hook(|| document::eval(&SCRIPT.replace("__SIDE__", &FRAME_SIDE.to_string())));

    // What the page sends: pictures and frames to read, or no camera.
    let b = backend.clone();
    use_future(move || {
        let b = b.clone();
        let mut page = page;
        async move {
            while let Ok(msg) = page.recv::<FromPage>().await {
                let scanned: Result<Scanned, IpcError> = match msg {
                    FromPage::Nocamera => {
                        no_camera.set(true);
                        camera_on.set(false);
                        continue;
                    }
                    FromPage::Picture { data } => {
                        state.set(ScanState::Looking);
                        b.call(&ScanPicture { bytes: data }).await
                    }
                    FromPage::Frame { w, h, data, n } => {
                        b.call(&ScanFrame {
                            width: w,
                            height: h,
                            gray: data,
                            number: n,
                        })
                        .await
                    }
                };
                let from_camera = *camera_on.peek();
                match scanned {
                    Ok(s) if s.codes.is_empty() => {
                        if from_camera {
                            let _ = page.send("next");
                        } else {
                            state.set(ScanState::Nothing);
                        }
                    }
                    Ok(s) => {
                        if from_camera {
                            let _ = page.send("stop");
                            camera_on.set(false);
                        }
                        let mut found = Vec::new();
                        for code in s.codes {
                            let target = b
                                .call(&ResolveCode {
                                    code: code.text.clone(),
                                })
                                .await;
                            found.push((code, target));
                        }
                        state.set(ScanState::Found(found));
                    }
                    Err(e) => {
                        if from_camera {
                            let _ = page.send("stop");
                            camera_on.set(false);
                        }
                        state.set(ScanState::Failed(e));
                    }
                }
            }
        }
    });

    let b = backend.clone();
    rsx! {
        ScanView {
            t: ctx.t(),
            state: state(),
            camera_on: camera_on(),
            no_camera: no_camera(),
            offline: ctx.offline(),
            on_camera: move |_| {
                if !*camera_on.peek() {
                    camera_on.set(true);
                    state.set(ScanState::Looking);
                    let _ = page.send("start");
                } else {
                    let _ = page.send("stop");
                    camera_on.set(false);
                    state.set(ScanState::Idle);
                }
            },
            on_checkout: move |copy: String| {
                let b = b.clone();
                let mut ctx = ctx;
                spawn(async move {
                    match b.call(&SelfCheckout { copy }).await {
                        Ok(_) => {
                            ctx.notice.set(Some(Notice::Done("scan-checked-out")));
                            ctx.bump();
                        }
                        Err(e) => ctx.notice.set(Some(Notice::Failed(e))),
                    }
                });
            },
        }
    }
}

#[component]
pub fn ScanView(
    t: T,
    state: ScanState,
    camera_on: bool,
    no_camera: bool,
    offline: bool,
    on_camera: EventHandler<()>,
    on_checkout: EventHandler<String>,
) -> Element {
    let title = t.t("scan-title");
    rsx! {
        section { class: "screen scan-screen",
            ScreenHead { t: t.clone(), title, offline }
            p { class: "muted", {t.t("scan-hint")} }
            div { class: "scan-camera",
                video {
                    id: "scan-video",
                    class: if camera_on { "on" } else { "off" },
                    "aria-hidden": "true",
                    playsinline: true,
                    muted: true,
                }
                button {
                    id: "scan-camera",
                    r#type: "button",
                    "aria-pressed": if camera_on { "true" } else { "false" },
                    onclick: move |_| on_camera.call(()),
                    {if camera_on { t.t("scan-camera-stop") } else { t.t("scan-camera-start") }}
                }
                if no_camera {
                    p { class: "muted", role: "note", {t.t("scan-no-camera")} }
                }
            }
            div { class: "scan-photo",
                label { r#for: "scan-file", {t.t("scan-photo")} }
                input {
                    id: "scan-file",
                    r#type: "file",
                    accept: "image/*",
                    capture: "environment",
                }
            }
            div { id: "scan-result", role: "status", "aria-live": "polite",
                match state {
                    ScanState::Idle => rsx! {},
                    ScanState::Looking => rsx! { p { class: "muted", {t.t("scan-looking")} } },
                    ScanState::Nothing => rsx! { p { {t.t("scan-nothing")} } },
                    ScanState::Failed(e) => rsx! { ErrorBox { t: t.clone(), error: e } },
                    ScanState::Found(found) => rsx! {
                        ul { class: "scan-found",
                            for (code, target) in found {
                                li { key: "{code.text}",
                                    ScanFound { t: t.clone(), code, target, offline, on_checkout }
                                }
                            }
                        }
                    },
                }
            }
        }
    }
}

#[component]
fn ScanFound(
    t: T,
    code: ScannedCode,
    target: Result<CodeTarget, IpcError>,
    offline: bool,
    on_checkout: EventHandler<String>,
) -> Element {
    let kind = if code.format == "ean13" {
        t.ta("scan-isbn", &[("isbn", code.text.clone())])
    } else {
        t.t("scan-label")
    };
    match target {
        Ok(target) => {
            let copy = target.copy.clone();
            rsx! {
                p { class: "scan-kind", "{kind}" }
                crate::components::Go { to: Route::Title { id: target.title_id.clone() }, class: "scan-title", "{target.title}" }
                if target.from_cache {
                    p { class: "muted", {t.t("scan-from-device")} }
                }
                if let Some(copy) = copy {
                    if offline {
                        p { class: "muted", {t.t("scan-checkout-offline")} }
                    } else {
                        button {
                            r#type: "button",
                            class: "primary",
                            onclick: move |_| on_checkout.call(copy.clone()),
                            {t.ta("scan-checkout", &[("copy", copy.clone())])}
                        }
                    }
                }
            }
        }
        Err(e) => rsx! {
            p { class: "scan-kind", "{kind}" }
            p { class: "scan-text", "{code.text}" }
            ErrorBox { t, error: e }
        },
    }
}
