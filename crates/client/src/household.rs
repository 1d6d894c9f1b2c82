//! A household on one device: several library cards (parents and
//! children), each a [`Device`] of its own — its own SQLite file, token and
//! documents, so one card's data never mixes with another's — plus which
//! card the screens show. The combined view (every card's due dates and
//! ready holds) is computed from the replicas alone, so it works offline.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pustaka_ipc::{AccountView, HouseholdItem, HouseholdMember, HouseholdView};

use crate::{Device, DeviceClock, DeviceError};

const STATE_FILE: &str = "household.json";
const PREFIX: &str = "member-";

struct Member {
    /// The file's name without `.db`: stable while the member exists.
    slot: String,
    device: Arc<Device>,
}

struct State {
    members: Vec<Member>,
    active: String,
}

pub struct Household {
    dir: PathBuf,
    clock: Arc<dyn DeviceClock>,
    state: Mutex<State>,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Saved {
    active: String,
}

fn storage(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Storage(e.to_string())
}

impl Household {
    /// Opens every member kept in `dir` (at least one, signed out at first).
    pub fn open(dir: &Path, clock: Arc<dyn DeviceClock>) -> Result<Household, DeviceError> {
        Self::open_with_legacy(dir, None, clock)
    }

    /// [`Household::open`], first moving a single-card database from before
    /// households (`legacy`) in as the first member.
    pub fn open_with_legacy(
        dir: &Path,
        legacy: Option<&Path>,
        clock: Arc<dyn DeviceClock>,
    ) -> Result<Household, DeviceError> {
        std::fs::create_dir_all(dir).map_err(storage)?;
        if let Some(old) = legacy.filter(|p| p.exists()) {
            let first = dir.join(format!("{PREFIX}1.db"));
            if !first.exists() {
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", old.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", first.display()))
                            .map_err(storage)?;
                    }
                }
            }
        }
        let mut slots: Vec<String> = std::fs::read_dir(dir)
            .map_err(storage)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".db").map(str::to_string))
            .filter(|n| n.starts_with(PREFIX))
            .collect();
        slots.sort_by_key(|s| slot_number(s));
        if slots.is_empty() {
            slots.push(format!("{PREFIX}1"));
        }
        let mut members = vec![];
        for slot in slots {
            let device = Device::open(&dir.join(format!("{slot}.db")), clock.clone())?;
            members.push(Member {
                slot,
                device: Arc::new(device),
            });
        }
        let saved: Saved = std::fs::read_to_string(dir.join(STATE_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let active = if members.iter().any(|m| m.slot == saved.active) {
            saved.active
        } else {
            members[0].slot.clone()
        };
        Ok(Household {
            dir: dir.to_path_buf(),
            clock,
            state: Mutex::new(State { members, active }),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, DeviceError> {
        // The state is a list and a name: still whole after a panic.
        Ok(self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn save(&self, st: &State) -> Result<(), DeviceError> {
        let text = serde_json::to_string(&Saved {
            active: st.active.clone(),
        })
        .map_err(storage)?;
        let tmp = self.dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(&tmp, text).map_err(storage)?;
        std::fs::rename(&tmp, self.dir.join(STATE_FILE)).map_err(storage)
    }

    /// The card the screens show (there is always one member).
    pub fn active(&self) -> Arc<Device> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match st.members.iter().find(|m| m.slot == st.active) {
            Some(m) => m.device.clone(),
            None => st.members[0].device.clone(),
        }
    }

    /// Every member's device (signed in or not), in the order they joined.
    pub fn devices(&self) -> Result<Vec<Arc<Device>>, DeviceError> {
        Ok(self
            .lock()?
            .members
            .iter()
            .map(|m| m.device.clone())
            .collect())
    }

    /// A member for one more card: a signed-out one if there is, else a new
    /// file. It becomes the active one (the next sign-in lands on it).
    pub fn add_member(&self) -> Result<Arc<Device>, DeviceError> {
        let mut st = self.lock()?;
        if let Some(m) = st.members.iter().find(|m| !m.device.is_signed_in()) {
            let (slot, device) = (m.slot.clone(), m.device.clone());
            st.active = slot;
            self.save(&st)?;
            return Ok(device);
        }
        let next = st
            .members
            .iter()
            .map(|m| slot_number(&m.slot))
            .max()
            .unwrap_or(0)
            + 1;
        let slot = format!("{PREFIX}{next}");
        let device = Arc::new(Device::open(
            &self.dir.join(format!("{slot}.db")),
            self.clock.clone(),
        )?);
        st.members.push(Member {
            slot: slot.clone(),
            device: device.clone(),
        });
        st.active = slot;
        self.save(&st)?;
        Ok(device)
    }

    /// Shows `card` (one tap): its device becomes the active one.
    pub fn switch_to(&self, card: &str) -> Result<Arc<Device>, DeviceError> {
        let mut st = self.lock()?;
        let (slot, device) = member_of(&st, card)?;
        st.active = slot;
        self.save(&st)?;
        Ok(device)
    }

    /// Signs `card` out and removes its file (the last member stays, signed
    /// out). The first remaining card becomes the active one.
    pub async fn remove(&self, card: &str) -> Result<(), DeviceError> {
        let (_, device) = member_of(&*self.lock()?, card)?;
        device.logout().await?;
        let mut st = self.lock()?;
        if st.members.len() > 1
            && let Some(i) = st
                .members
                .iter()
                .position(|m| Arc::ptr_eq(&m.device, &device))
        {
            let m = st.members.remove(i);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(self.dir.join(format!("{}.db{suffix}", m.slot)));
            }
        }
        // The removed card, or an empty slot, is not what to show next.
        if !st
            .members
            .iter()
            .any(|m| m.slot == st.active && m.device.is_signed_in())
        {
            let first = st
                .members
                .iter()
                .find(|m| m.device.is_signed_in())
                .or(st.members.first())
                .map(|m| m.slot.clone())
                .unwrap_or_default();
            st.active = first;
        }
        self.save(&st)
    }

    /// Every card's due dates and ready holds, from the replicas (offline).
    pub fn view(&self) -> Result<HouseholdView, DeviceError> {
        let devices: Vec<(bool, Arc<Device>)> = {
            let st = self.lock()?;
            st.members
                .iter()
                .map(|m| (m.slot == st.active, m.device.clone()))
                .collect()
        };
        let mut accounts = vec![];
        for (is_active, d) in devices {
            let Some((_, card, name)) = d.signed_in_as() else {
                continue;
            };
            // A card signed in but never synced shows with nothing yet.
            let view = match d.view() {
                Ok(v) => Some(v),
                Err(DeviceError::NoData) => None,
                Err(e) => return Err(e),
            };
            accounts.push((card, name, is_active, view));
        }
        Ok(combine(&accounts))
    }
}

/// The member signed in with `card`: its slot and device.
fn member_of(st: &State, card: &str) -> Result<(String, Arc<Device>), DeviceError> {
    st.members
        .iter()
        .find(|m| m.device.signed_in_as().is_some_and(|(_, c, _)| c == card))
        .map(|m| (m.slot.clone(), m.device.clone()))
        .ok_or(DeviceError::NotSignedIn)
}

fn slot_number(slot: &str) -> u32 {
    slot.strip_prefix(PREFIX)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The household's combined list: every loan and every hold ready for
/// pickup of every card, most urgent first (pure).
pub fn combine(accounts: &[(String, String, bool, Option<AccountView>)]) -> HouseholdView {
    let mut members = vec![];
    let mut items = vec![];
    for (card, name, active, view) in accounts {
        let mut m = HouseholdMember {
            card: card.clone(),
            name: name.clone(),
            active: *active,
            synced: view.is_some(),
            loans: 0,
            overdue: 0,
            ready: 0,
        };
        if let Some(v) = view {
            for l in &v.loans {
                m.loans += 1;
                m.overdue += u32::from(l.overdue);
                items.push(HouseholdItem {
                    card: card.clone(),
                    name: name.clone(),
                    kind: "loan".into(),
                    title: l.title.clone(),
                    date: l.due,
                    days_left: l.days_left,
                    overdue: l.overdue,
                    branch: l.branch.clone(),
                });
            }
            for h in v.holds.iter().filter(|h| h.status == "waiting") {
                m.ready += 1;
                let by = h.pickup_by.unwrap_or(v.today);
                items.push(HouseholdItem {
                    card: card.clone(),
                    name: name.clone(),
                    kind: "hold_ready".into(),
                    title: h.title.clone(),
                    date: by,
                    days_left: (by - v.today).num_days(),
                    overdue: false,
                    branch: h.pickup_branch.clone(),
                });
            }
        }
        members.push(m);
    }
    items.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(a.date.cmp(&b.date))
            .then(a.card.cmp(&b.card))
            .then(a.title.cmp(&b.title))
    });
    HouseholdView { members, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use pustaka_ipc::{HoldView, LoanView};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn account(today: &str, loans: Vec<(&str, &str)>, ready: Vec<(&str, &str)>) -> AccountView {
        let today = day(today);
        AccountView {
            library: String::new(),
            card: String::new(),
            name: String::new(),
            today,
            fines_owed: 0,
            account_blocked: None,
            loans: loans
                .into_iter()
                .map(|(title, due)| LoanView {
                    copy: title.into(),
                    title_id: title.into(),
                    title: title.into(),
                    author: String::new(),
                    branch: "pusat".into(),
                    due: day(due),
                    days_left: (day(due) - today).num_days(),
                    overdue: day(due) < today,
                    renewals_used: 0,
                    renewals_left: 1,
                    fine: 0,
                    renew_blocked: None,
                    renew_preview: None,
                    pending_renewal: false,
                })
                .collect(),
            holds: ready
                .into_iter()
                .map(|(title, by)| HoldView {
                    id: title.into(),
                    title_id: title.into(),
                    title: title.into(),
                    status: "waiting".into(),
                    position: 0,
                    queue_len: 1,
                    copies: 1,
                    estimated_wait_days: 0,
                    pickup_branch: "barat".into(),
                    pickup_by: Some(day(by)),
                    suspended_until: None,
                    captured: true,
                })
                .collect(),
            events: vec![],
            pending: vec![],
            outcomes: vec![],
            history: vec![],
            keep_history: false,
            questions: vec![],
            surveys: vec![],
            branches: vec![],
            utc_offset_minutes: 420,
        }
    }

    #[test]
    fn every_cards_dates_in_one_list_most_urgent_first() {
        let v = combine(&[
            (
                "1001".into(),
                "Ibu".into(),
                true,
                Some(account(
                    "2026-11-20",
                    vec![("A", "2026-11-25"), ("B", "2026-11-18")],
                    vec![],
                )),
            ),
            (
                "1002".into(),
                "Anak".into(),
                false,
                Some(account(
                    "2026-11-20",
                    vec![("C", "2026-11-21")],
                    vec![("D", "2026-11-22")],
                )),
            ),
            ("1003".into(), "Baru".into(), false, None),
        ]);
        let order: Vec<(&str, &str)> = v
            .items
            .iter()
            .map(|i| (i.card.as_str(), i.title.as_str()))
            .collect();
        assert_eq!(
            order,
            [("1001", "B"), ("1002", "C"), ("1002", "D"), ("1001", "A")]
        );
        assert!(v.items[0].overdue);
        assert_eq!(v.items[2].kind, "hold_ready");
        assert_eq!(v.members.len(), 3);
        assert_eq!((v.members[0].loans, v.members[0].overdue), (2, 1));
        assert_eq!(v.members[1].ready, 1);
        assert!(!v.members[2].synced);
        assert!(v.members[0].active && !v.members[1].active);
    }
}
