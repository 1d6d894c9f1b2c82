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
        .device()
        .login(&args.server, &args.card, &args.pin)
        .await
        .map_err(ipc)?;
    shell.device().kick();
    Ok(shell.session())
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, args: SignOut) -> Reply<Session> {
    let SignOut {} = args;
    // The active card leaves the household (the last one stays, empty).
    match shell.device().signed_in_as() {
        Some((_, card, _)) => shell.household.remove(&card).await.map_err(ipc)?,
        None => shell.device().logout().await.map_err(ipc)?,
    }
    Ok(shell.session())
}

#[tauri::command]
pub fn get_household(shell: State<'_, Shell>, args: GetHousehold) -> Reply<HouseholdView> {
    let GetHousehold {} = args;
    shell.household.view().map_err(ipc)
}

#[tauri::command]
pub async fn add_card(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    args: AddCard,
) -> Reply<Session> {
    let before = shell.device().signed_in_as().map(|(_, card, _)| card);
    let device = shell.household.add_member().map_err(ipc)?;
    if let Err(e) = device.login(&args.server, &args.card, &args.pin).await {
        // The card did not sign in: show the one shown before.
        if let Some(card) = before {
            let _ = shell.household.switch_to(&card);
        }
        return Err(ipc(e));
    }
    crate::start_member(&app, device.clone(), false);
    device.kick();
    Ok(shell.session())
}

#[tauri::command]
pub fn switch_card(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    args: SwitchCard,
) -> Reply<Session> {
    let device = shell.household.switch_to(&args.card).map_err(ipc)?;
    crate::announce(&app, &device);
    Ok(shell.session())
}

#[tauri::command]
pub async fn remove_card(shell: State<'_, Shell>, args: RemoveCard) -> Reply<Session> {
    shell.household.remove(&args.card).await.map_err(ipc)?;
    Ok(shell.session())
}

#[tauri::command]
pub fn get_account(shell: State<'_, Shell>, args: GetAccount) -> Reply<AccountView> {
    let GetAccount {} = args;
    shell.device().view().map_err(ipc)
}

#[tauri::command]
pub fn sync_now(shell: State<'_, Shell>, args: SyncNow) -> Reply<SyncStatus> {
    let SyncNow {} = args;
    shell.device().kick();
    Ok(shell.device().status())
}

#[tauri::command]
pub fn renew(shell: State<'_, Shell>, args: Renew) -> Reply<Requested> {
    requested(shell.device().renew(&args.copy))
}

#[tauri::command]
pub fn renew_all(shell: State<'_, Shell>, args: RenewAll) -> Reply<Requested> {
    let RenewAll {} = args;
    requested(shell.device().renew_all())
}

#[tauri::command]
pub fn place_hold(shell: State<'_, Shell>, args: PlaceHold) -> Reply<Requested> {
    requested(shell.device().place_hold(&args.title, &args.branch))
}

#[tauri::command]
pub fn cancel_hold(shell: State<'_, Shell>, args: CancelHold) -> Reply<Requested> {
    requested(shell.device().cancel_hold(&args.hold))
}

#[tauri::command]
pub fn suspend_hold(shell: State<'_, Shell>, args: SuspendHold) -> Reply<Requested> {
    requested(shell.device().suspend_hold(&args.hold, args.until))
}

#[tauri::command]
pub fn resume_hold(shell: State<'_, Shell>, args: ResumeHold) -> Reply<Requested> {
    requested(shell.device().resume_hold(&args.hold))
}

#[tauri::command]
pub fn change_pickup(shell: State<'_, Shell>, args: ChangePickup) -> Reply<Requested> {
    requested(shell.device().change_pickup(&args.hold, &args.branch))
}

#[tauri::command]
pub fn register_event(shell: State<'_, Shell>, args: RegisterEvent) -> Reply<Requested> {
    requested(shell.device().register_event(&args.event))
}

#[tauri::command]
pub fn cancel_registration(shell: State<'_, Shell>, args: CancelRegistration) -> Reply<Requested> {
    requested(shell.device().cancel_registration(&args.event))
}

#[tauri::command]
pub async fn search(shell: State<'_, Shell>, args: Search) -> Reply<SearchResults> {
    shell.device().search(&args).await.map_err(ipc)
}

#[tauri::command]
pub async fn get_title(shell: State<'_, Shell>, args: GetTitle) -> Reply<TitleView> {
    shell.device().title(&args.id).await.map_err(ipc)
}

#[tauri::command]
pub fn recent_titles(shell: State<'_, Shell>, args: RecentTitles) -> Reply<Vec<TitleSummary>> {
    let RecentTitles {} = args;
    shell.device().recent_titles().map_err(ipc)
}

fn lang(shell: &Shell) -> pustaka_domain::Lang {
    pustaka_domain::Lang::parse(&shell.settings().language).unwrap_or_default()
}

#[tauri::command]
pub fn get_faq(shell: State<'_, Shell>, args: GetFaq) -> Reply<Vec<FaqEntryView>> {
    let GetFaq {} = args;
    shell.device().faq(lang(&shell)).map_err(ipc)
}

#[tauri::command]
pub fn search_faq(shell: State<'_, Shell>, args: SearchFaq) -> Reply<FaqAnswer> {
    shell
        .device()
        .search_faq(&args.query, lang(&shell))
        .map_err(ipc)
}

#[tauri::command]
pub fn ask_librarian(shell: State<'_, Shell>, args: AskLibrarian) -> Reply<Requested> {
    requested(shell.device().ask_librarian(&args.question, lang(&shell)))
}

#[tauri::command]
pub fn answer_survey(shell: State<'_, Shell>, args: AnswerSurvey) -> Reply<Requested> {
    requested(shell.device().answer_survey(&args.survey, args.answers))
}

#[tauri::command]
pub fn set_keep_history(shell: State<'_, Shell>, args: SetKeepHistory) -> Reply<Requested> {
    requested(shell.device().set_keep_history(args.keep))
}

#[tauri::command]
pub async fn export_data(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    args: ExportData,
) -> Reply<String> {
    let ExportData {} = args;
    let dir = app
        .path()
        .download_dir()
        .unwrap_or_else(|_| shell.data_dir.clone());
    shell.write_export(&dir).await
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

// ---- the shelf scanner -----------------------------------------------------

fn scanned(out: pustaka_scan::Outcome, started: std::time::Instant) -> Scanned {
    Scanned {
        codes: out
            .codes
            .into_iter()
            .map(|c| ScannedCode {
                format: c.format.as_str().into(),
                text: c.text,
            })
            .collect(),
        ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn b64(s: &str) -> Reply<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| IpcError::new("bad_picture", format!("not base64: {e}")))
}

#[tauri::command]
pub async fn scan_frame(args: ScanFrame) -> Reply<Scanned> {
    let frame = pustaka_scan::from_gray(args.width, args.height, b64(&args.gray)?)
        .map_err(|e| IpcError::new("bad_picture", e.to_string()))?;
    tauri::async_runtime::spawn_blocking(move || {
        let started = std::time::Instant::now();
        scanned(
            pustaka_scan::Scanner::default().scan_frame(&frame, args.number),
            started,
        )
    })
    .await
    .map_err(|e| IpcError::new("internal", e.to_string()))
}

#[tauri::command]
pub async fn scan_picture(args: ScanPicture) -> Reply<Scanned> {
    let bytes = b64(&args.bytes)?;
    tauri::async_runtime::spawn_blocking(move || {
        let picture = pustaka_scan::decode(&bytes)
            .map_err(|e| IpcError::new("bad_picture", e.to_string()))?;
        let started = std::time::Instant::now();
        Ok(scanned(
            pustaka_scan::Scanner::default().scan(&picture),
            started,
        ))
    })
    .await
    .map_err(|e| IpcError::new("internal", e.to_string()))?
}

#[tauri::command]
pub async fn resolve_code(shell: State<'_, Shell>, args: ResolveCode) -> Reply<CodeTarget> {
    shell.device().resolve_code(&args.code).await.map_err(ipc)
}

#[tauri::command]
pub async fn self_checkout(shell: State<'_, Shell>, args: SelfCheckout) -> Reply<SelfCheckedOut> {
    shell.device().self_checkout(&args.copy).await.map_err(ipc)
}

#[tauri::command]
pub async fn get_card_code(shell: State<'_, Shell>, args: GetCardCode) -> Reply<Option<String>> {
    let GetCardCode {} = args;
    Ok(shell
        .device()
        .current_card_token()
        .await
        .map_err(ipc)?
        .map(|t| t.token))
}

#[tauri::command]
pub async fn get_email_reminders(
    shell: State<'_, Shell>,
    args: GetEmailReminders,
) -> Reply<EmailReminders> {
    let GetEmailReminders {} = args;
    shell.device().email_reminders().await.map_err(ipc)
}

#[tauri::command]
pub async fn set_email_reminders(
    shell: State<'_, Shell>,
    args: SetEmailReminders,
) -> Reply<EmailReminders> {
    // The e-mails are written in the app's language.
    let lang = lang(&shell);
    shell
        .device()
        .set_email_reminders(args.email.as_deref(), lang)
        .await
        .map_err(ipc)
}

#[tauri::command]
pub fn get_calendar_feed(shell: State<'_, Shell>, args: GetCalendarFeed) -> Reply<Option<String>> {
    let GetCalendarFeed {} = args;
    shell.device().calendar_feed().map_err(ipc)
}

#[tauri::command]
pub async fn new_calendar_feed(shell: State<'_, Shell>, args: NewCalendarFeed) -> Reply<String> {
    let NewCalendarFeed {} = args;
    shell.device().new_calendar_feed().await.map_err(ipc)
}

#[tauri::command]
pub fn get_lists(shell: State<'_, Shell>, args: GetLists) -> Reply<Vec<ReadingListView>> {
    let GetLists {} = args;
    shell.device().reading_lists().map_err(ipc)
}

#[tauri::command]
pub fn create_list(shell: State<'_, Shell>, args: CreateList) -> Reply<String> {
    shell.device().create_list(&args.name).map_err(ipc)
}

#[tauri::command]
pub fn rename_list(shell: State<'_, Shell>, args: RenameList) -> Reply<()> {
    shell
        .device()
        .rename_list(&args.list, &args.name)
        .map_err(ipc)
}

#[tauri::command]
pub fn delete_list(shell: State<'_, Shell>, args: DeleteList) -> Reply<()> {
    shell.device().delete_list(&args.list).map_err(ipc)
}

#[tauri::command]
pub fn add_to_list(shell: State<'_, Shell>, args: AddToList) -> Reply<()> {
    let item = ListItemView {
        title_id: args.title_id,
        title: args.title,
        author: args.author,
        added_at: 0,
    };
    shell.device().add_to_list(&args.list, &item).map_err(ipc)
}

#[tauri::command]
pub fn remove_from_list(shell: State<'_, Shell>, args: RemoveFromList) -> Reply<()> {
    shell
        .device()
        .remove_from_list(&args.list, &args.title_id)
        .map_err(ipc)
}

#[tauri::command]
pub fn save_shared_list(shell: State<'_, Shell>, args: SaveSharedList) -> Reply<String> {
    shell
        .device()
        .save_shared_list(&args.name, &args.items)
        .map_err(ipc)
}
