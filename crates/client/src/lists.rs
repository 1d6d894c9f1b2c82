//! Reading lists on the device: the patron's own `prefs` document
//! ([`pustaka_replica::prefs`]), edited offline, merged across their devices
//! by sync (the server stores and relays it, never writes it).

use pustaka_ipc::{ListItemView, ReadingListView, share_link};
use pustaka_replica::{
    DocKind, ReplicaError,
    prefs::{self, ListItem},
};

use crate::{Device, DeviceError, random_bytes};

fn invalid(code: &str) -> impl Fn(ReplicaError) -> DeviceError + '_ {
    move |_| DeviceError::Invalid(code.into())
}

fn name_ok(name: &str) -> Result<(), DeviceError> {
    let n = name.trim().chars().count();
    if n == 0 || n > prefs::MAX_NAME {
        return Err(DeviceError::Invalid("list_name".into()));
    }
    Ok(())
}

impl Device {
    /// Every list, "want to read" first (empty before the first sync with a
    /// library that has reading lists).
    pub fn reading_lists(&self) -> Result<Vec<ReadingListView>, DeviceError> {
        let server = self.server().unwrap_or_default();
        let inner = self.lock()?;
        let Some(d) = inner.docs.get(&DocKind::Prefs) else {
            return Ok(vec![]);
        };
        Ok(prefs::read_lists(&d.doc)
            .into_iter()
            .map(|l| {
                let ids: Vec<String> = l.items.iter().map(|i| i.title_id.clone()).collect();
                ReadingListView {
                    share: if ids.is_empty() || server.is_empty() {
                        String::new()
                    } else {
                        share_link(&server, &l.name, &ids)
                    },
                    id: l.id,
                    name: l.name,
                    items: l
                        .items
                        .into_iter()
                        .map(|i| ListItemView {
                            title_id: i.title_id,
                            title: i.title,
                            author: i.author,
                            added_at: i.added_at,
                        })
                        .collect(),
                }
            })
            .collect())
    }

    pub fn create_list(&self, name: &str) -> Result<String, DeviceError> {
        name_ok(name)?;
        let id = hex(&random_bytes::<6>());
        let now = self.now();
        self.edit_own(DocKind::Prefs, |doc| {
            prefs::create_list(doc, &id, name, now).map_err(invalid("list_full"))
        })?;
        Ok(id)
    }

    pub fn rename_list(&self, list: &str, name: &str) -> Result<(), DeviceError> {
        name_ok(name)?;
        self.edit_own(DocKind::Prefs, |doc| {
            prefs::rename_list(doc, list, name).map_err(invalid("unknown_list"))
        })
    }

    pub fn delete_list(&self, list: &str) -> Result<(), DeviceError> {
        self.edit_own(DocKind::Prefs, |doc| Ok(prefs::delete_list(doc, list)?))
    }

    pub fn add_to_list(&self, list: &str, item: &ListItemView) -> Result<(), DeviceError> {
        let item = ListItem {
            title_id: item.title_id.clone(),
            title: item.title.clone(),
            author: item.author.clone(),
            added_at: self.now(),
        };
        self.edit_own(DocKind::Prefs, |doc| {
            prefs::add_item(doc, list, &item).map_err(invalid("list_item"))
        })
    }

    pub fn remove_from_list(&self, list: &str, title_id: &str) -> Result<(), DeviceError> {
        self.edit_own(DocKind::Prefs, |doc| {
            Ok(prefs::remove_item(doc, list, title_id)?)
        })
    }

    /// A shared list saved as a new list of the patron's.
    pub fn save_shared_list(
        &self,
        name: &str,
        items: &[ListItemView],
    ) -> Result<String, DeviceError> {
        let id = self.create_list(name)?;
        for i in items.iter().take(prefs::MAX_ITEMS) {
            self.add_to_list(&id, i)?;
        }
        Ok(id)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
