//! `prefs`: the patron's own document, written by their devices (the server
//! stores and relays it, never writes it): reading lists.
//!
//! Every entry is a scalar under the root, so concurrent edits from two
//! devices always merge (two devices creating the same nested map at the same
//! time would leave one of them; a flat map of scalars has no such race):
//!
//! - `l/<list>` → JSON `{name, created_at}`: a named list. The list
//!   [`WANT`] ("want to read") always exists and has no entry.
//! - `i/<list>/<title>` → JSON `{title, author, added_at}`: a title on a list.
//!
//! Removing is deleting the key; renaming is writing the name again (last
//! writer wins). An item whose list was deleted on another device is not
//! shown (and is dropped with the list on the next delete).

use automerge::{AutoCommit, ReadDoc, ScalarValue, Value, transaction::Transactable};
use pustaka_domain::Millis;
use serde::{Deserialize, Serialize};

use crate::ReplicaError;

/// The built-in "want to read" list.
pub const WANT: &str = "want";
/// Longest list name and id, in characters.
pub const MAX_NAME: usize = 80;
/// Most titles on one list, and most lists.
pub const MAX_ITEMS: usize = 500;
pub const MAX_LISTS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ListEntry {
    name: String,
    created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListItem {
    pub title_id: String,
    pub title: String,
    pub author: String,
    pub added_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ItemEntry {
    title: String,
    author: String,
    added_at: Millis,
}

/// One list as the screens show it: `name` empty for [`WANT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingList {
    pub id: String,
    pub name: String,
    pub created_at: Millis,
    /// Newest first.
    pub items: Vec<ListItem>,
}

fn list_key(list: &str) -> String {
    format!("l/{list}")
}

fn item_key(list: &str, title: &str) -> String {
    format!("i/{list}/{title}")
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_NAME
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn text(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn json<T: Serialize>(v: &T) -> Result<String, ReplicaError> {
    serde_json::to_string(v).map_err(|e| ReplicaError::Schema(e.to_string()))
}

/// Every list, "want to read" first, then by creation; entries that do not
/// parse are skipped (a newer app may write more).
pub fn read_lists(doc: &AutoCommit) -> Vec<ReadingList> {
    let mut lists = vec![ReadingList {
        id: WANT.into(),
        name: String::new(),
        created_at: 0,
        items: vec![],
    }];
    let keys: Vec<String> = doc.keys(automerge::ROOT).collect();
    for k in &keys {
        if let Some(id) = k.strip_prefix("l/")
            && id != WANT
            && let Some(e) = text(doc, k).and_then(|t| serde_json::from_str::<ListEntry>(&t).ok())
        {
            lists.push(ReadingList {
                id: id.to_string(),
                name: e.name,
                created_at: e.created_at,
                items: vec![],
            });
        }
    }
    lists[1..].sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    for k in &keys {
        let Some((list, title)) = k.strip_prefix("i/").and_then(|r| r.split_once('/')) else {
            continue;
        };
        let Some(l) = lists.iter_mut().find(|l| l.id == list) else {
            continue;
        };
        if let Some(e) = text(doc, k).and_then(|t| serde_json::from_str::<ItemEntry>(&t).ok()) {
            l.items.push(ListItem {
                title_id: title.to_string(),
                title: e.title,
                author: e.author,
                added_at: e.added_at,
            });
        }
    }
    for l in &mut lists {
        l.items.sort_by(|a, b| {
            b.added_at
                .cmp(&a.added_at)
                .then(a.title_id.cmp(&b.title_id))
        });
    }
    lists
}

/// A new named list with id `id` (random, from the caller).
pub fn create_list(
    doc: &mut AutoCommit,
    id: &str,
    name: &str,
    now: Millis,
) -> Result<(), ReplicaError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ReplicaError::Schema(
            "list name must be 1-80 characters".into(),
        ));
    }
    if !valid_id(id) || id == WANT {
        return Err(ReplicaError::Schema(format!("bad list id `{id}`")));
    }
    if read_lists(doc).len() > MAX_LISTS {
        return Err(ReplicaError::Schema(format!("at most {MAX_LISTS} lists")));
    }
    let e = ListEntry {
        name: name.to_string(),
        created_at: now,
    };
    doc.put(automerge::ROOT, list_key(id), json(&e)?)?;
    Ok(())
}

pub fn rename_list(doc: &mut AutoCommit, id: &str, name: &str) -> Result<(), ReplicaError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ReplicaError::Schema(
            "list name must be 1-80 characters".into(),
        ));
    }
    let mut e: ListEntry = text(doc, &list_key(id))
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| ReplicaError::Schema(format!("no list `{id}`")))?;
    e.name = name.to_string();
    doc.put(automerge::ROOT, list_key(id), json(&e)?)?;
    Ok(())
}

/// Deletes a named list and its titles ("want to read" is only emptied).
pub fn delete_list(doc: &mut AutoCommit, id: &str) -> Result<(), ReplicaError> {
    let prefix = format!("i/{id}/");
    let keys: Vec<String> = doc
        .keys(automerge::ROOT)
        .filter(|k| k.starts_with(&prefix) || (id != WANT && *k == list_key(id)))
        .collect();
    for k in keys {
        doc.delete(automerge::ROOT, k.as_str())?;
    }
    Ok(())
}

pub fn add_item(doc: &mut AutoCommit, list: &str, item: &ListItem) -> Result<(), ReplicaError> {
    let lists = read_lists(doc);
    let l = lists
        .iter()
        .find(|l| l.id == list)
        .ok_or_else(|| ReplicaError::Schema(format!("no list `{list}`")))?;
    if !valid_id(&item.title_id) {
        return Err(ReplicaError::Schema(format!(
            "bad title id `{}`",
            item.title_id
        )));
    }
    if l.items.len() >= MAX_ITEMS && !l.items.iter().any(|i| i.title_id == item.title_id) {
        return Err(ReplicaError::Schema(format!(
            "at most {MAX_ITEMS} titles on a list"
        )));
    }
    let e = ItemEntry {
        title: item.title.chars().take(300).collect(),
        author: item.author.chars().take(200).collect(),
        added_at: item.added_at,
    };
    doc.put(automerge::ROOT, item_key(list, &item.title_id), json(&e)?)?;
    Ok(())
}

pub fn remove_item(doc: &mut AutoCommit, list: &str, title: &str) -> Result<(), ReplicaError> {
    let key = item_key(list, title);
    if doc.get(automerge::ROOT, key.as_str())?.is_some() {
        doc.delete(automerge::ROOT, key.as_str())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, at: Millis) -> ListItem {
        ListItem {
            title_id: id.into(),
            title: format!("Judul {id}"),
            author: "Penulis".into(),
            added_at: at,
        }
    }

    fn ids(l: &ReadingList) -> Vec<&str> {
        l.items.iter().map(|i| i.title_id.as_str()).collect()
    }

    #[test]
    fn edits_on_two_devices_merge_without_losing_either() {
        let mut a = AutoCommit::new();
        let mut b = a.fork();
        // Offline on both: each adds to "want" and makes a list.
        add_item(&mut a, WANT, &item("T1", 1)).unwrap();
        create_list(&mut a, "liburan", "Liburan", 2).unwrap();
        add_item(&mut a, "liburan", &item("T3", 3)).unwrap();
        add_item(&mut b, WANT, &item("T2", 4)).unwrap();
        create_list(&mut b, "sekolah", "Tugas sekolah", 5).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let (la, lb) = (read_lists(&a), read_lists(&b));
        assert_eq!(la, lb);
        assert_eq!(ids(&la[0]), ["T2", "T1"]);
        assert_eq!(la[1].name, "Liburan");
        assert_eq!(ids(&la[1]), ["T3"]);
        assert_eq!(la[2].name, "Tugas sekolah");

        // Concurrent: a removes T1 and renames, b adds T4 to the same list.
        remove_item(&mut a, WANT, "T1").unwrap();
        rename_list(&mut a, "liburan", "Liburan Juni").unwrap();
        add_item(&mut b, "liburan", &item("T4", 6)).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let l = read_lists(&b);
        assert_eq!(read_lists(&a), l);
        assert_eq!(ids(&l[0]), ["T2"]);
        assert_eq!(
            (l[1].name.as_str(), ids(&l[1])),
            ("Liburan Juni", vec!["T4", "T3"])
        );

        // A list deleted on one device while the other adds to it: gone.
        delete_list(&mut a, "sekolah").unwrap();
        add_item(&mut b, "sekolah", &item("T5", 7)).unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(read_lists(&a).len(), 2);
    }

    #[test]
    fn bad_edits_are_refused_and_unknown_entries_skipped() {
        let mut d = AutoCommit::new();
        assert!(create_list(&mut d, "x", "  ", 1).is_err());
        assert!(create_list(&mut d, "a/b", "Nama", 1).is_err());
        assert!(create_list(&mut d, WANT, "Nama", 1).is_err());
        assert!(add_item(&mut d, "nope", &item("T1", 1)).is_err());
        assert!(add_item(&mut d, WANT, &item("T/1", 1)).is_err());
        d.put(automerge::ROOT, "i/want/T9", 5).unwrap();
        d.put(automerge::ROOT, "l/zz", "not json").unwrap();
        d.put(automerge::ROOT, "future", "x").unwrap();
        let l = read_lists(&d);
        assert_eq!(l.len(), 1);
        assert!(l[0].items.is_empty());
        delete_list(&mut d, WANT).unwrap();
        assert_eq!(read_lists(&d).len(), 1, "want to read always exists");
    }
}
