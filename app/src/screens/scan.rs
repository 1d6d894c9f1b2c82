//! The shelf scanner: the camera's frames (or a photo taken or picked)
//! go to Rust, where `pustaka-scan` reads QR labels and ISBN barcodes; a
//! code opens its title, from the library or, offline, from this device.
//! A copy's label offers self-checkout while online.
//!
//! The camera and file reading are the page's (`app/static/scanner.js`,
//! which hands frames over one at a time and waits for the answer, so
//! frames never pile up); everything else is Rust.

use dioxus::prelude::*;
use futures_util::StreamExt;
use pustaka_ipc::{
    CodeTarget, IpcError, ResolveCode, ScanFrame, ScanPicture, Scanned, ScannedCode, SelfCheckout,
};
use serde::Deserialize;

use super::ScreenHead;
use crate::components::ErrorBox;
use crate::page::PageScanner;
use crate::{Notice, Route, T, use_backend, use_ctx};

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
    let page = PageScanner;
    // What the page sends: pictures and frames to read, or no camera.
    let b = backend.clone();
    let reader = use_coroutine(move |mut rx: UnboundedReceiver<serde_json::Value>| {
        let b = b.clone();
        async move {
            while let Some(raw) = rx.next().await {
                let Ok(msg) = serde_json::from_value::<FromPage>(raw) else {
                    continue;
                };
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
                            page.command("next");
                        } else {
                            state.set(ScanState::Nothing);
                        }
                    }
                    Ok(s) => {
                        if from_camera {
                            page.command("stop");
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
                            page.command("stop");
                            camera_on.set(false);
                        }
                        state.set(ScanState::Failed(e));
                    }
                }
            }
        }
    });
    use_hook(move || page.attach(move |v| reader.send(v)));

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
                    page.command("start");
                } else {
                    page.command("stop");
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
