//! The Tauri commands: one per [`pustaka_ipc::Command`], each a few lines
//! delegating to the headless device. The page sends `{args: <request>}`.

use pustaka_ipc::*;
use tauri::{Manager, State};

use crate::shell::{Shell, ipc};

type Reply<T> = Result<T, IpcError>;

fn requested(r: Result<impl ToString, pustaka_client::DeviceError>) -> Reply<Requested> {
    r.map(|id| Requested { id: id.to_string() }).map_err(ipc)
}

#[tauri::command]
pub fn get_session(shell: State<'_, Shell>, args: GetSession) -> Reply<Session> {
    let GetSession {} = args;
    Ok(shell.session())
}

#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, args: SignIn) -> Reply<Session> {
    shell
        .device
        .login(&args.server, &args.card, &args.pin)
        .await
        .map_err(ipc)?;
    shell.device.kick();
    Ok(shell.session())
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, args: SignOut) -> Reply<Session> {
    let SignOut {} = args;
    shell.device.logout().await.map_err(ipc)?;
    Ok(shell.session())
}

#[tauri::command]
pub fn get_account(shell: State<'_, Shell>, args: GetAccount) -> Reply<AccountView> {
    let GetAccount {} = args;
    shell.device.view().map_err(ipc)
}

#[tauri::command]
pub fn sync_now(shell: State<'_, Shell>, args: SyncNow) -> Reply<SyncStatus> {
    let SyncNow {} = args;
    shell.device.kick();
    Ok(shell.device.status())
}

#[tauri::command]
pub fn renew(shell: State<'_, Shell>, args: Renew) -> Reply<Requested> {
    requested(shell.device.renew(&args.copy))
}

#[tauri::command]
pub fn renew_all(shell: State<'_, Shell>, args: RenewAll) -> Reply<Requested> {
    let RenewAll {} = args;
    requested(shell.device.renew_all())
}

#[tauri::command]
pub fn place_hold(shell: State<'_, Shell>, args: PlaceHold) -> Reply<Requested> {
    requested(shell.device.place_hold(&args.title, &args.branch))
}

#[tauri::command]
pub fn cancel_hold(shell: State<'_, Shell>, args: CancelHold) -> Reply<Requested> {
    requested(shell.device.cancel_hold(&args.hold))
}

#[tauri::command]
pub fn suspend_hold(shell: State<'_, Shell>, args: SuspendHold) -> Reply<Requested> {
    requested(shell.device.suspend_hold(&args.hold, args.until))
}

#[tauri::command]
pub fn resume_hold(shell: State<'_, Shell>, args: ResumeHold) -> Reply<Requested> {
    requested(shell.device.resume_hold(&args.hold))
}

#[tauri::command]
pub fn change_pickup(shell: State<'_, Shell>, args: ChangePickup) -> Reply<Requested> {
    requested(shell.device.change_pickup(&args.hold, &args.branch))
}

#[tauri::command]
pub fn register_event(shell: State<'_, Shell>, args: RegisterEvent) -> Reply<Requested> {
    requested(shell.device.register_event(&args.event))
}

#[tauri::command]
pub fn cancel_registration(shell: State<'_, Shell>, args: CancelRegistration) -> Reply<Requested> {
    requested(shell.device.cancel_registration(&args.event))
}

#[tauri::command]
pub async fn search(shell: State<'_, Shell>, args: Search) -> Reply<SearchResults> {
    shell.device.search(&args).await.map_err(ipc)
}

#[tauri::command]
pub async fn get_title(shell: State<'_, Shell>, args: GetTitle) -> Reply<TitleView> {
    shell.device.title(&args.id).await.map_err(ipc)
}

#[tauri::command]
pub fn recent_titles(shell: State<'_, Shell>, args: RecentTitles) -> Reply<Vec<TitleSummary>> {
    let RecentTitles {} = args;
    shell.device.recent_titles().map_err(ipc)
}

#[tauri::command]
pub fn add_to_calendar(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    args: AddToCalendar,
) -> Reply<String> {
    let dir = app
        .path()
        .download_dir()
        .unwrap_or_else(|_| shell.data_dir.clone());
    shell.write_event_ics(&args.event, &dir)
}

#[tauri::command]
pub fn set_settings(shell: State<'_, Shell>, args: SetSettings) -> Reply<Settings> {
    shell.set_settings(args.settings)
}

#[tauri::command]
pub fn startup_mark(args: StartupMark) -> Reply<()> {
    crate::startup_mark(&args.mark);
    Ok(())
}

#[tauri::command]
pub fn open_online(app: tauri::AppHandle, args: OpenOnline) -> Reply<()> {
    use tauri_plugin_opener::OpenerExt;
    let url = crate::shell::checked_link(&args.url)?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| IpcError::new("open_failed", e.to_string()))
}
