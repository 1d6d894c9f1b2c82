//! Intents: what a patron asks for, written by their devices, decided by the
//! server exactly once.
//!
//! The `intents` document's root map is keyed by UUIDv7 intent ids. Entries
//! sit directly at the root (not under a nested map) so two devices that
//! start the document independently never create conflicting containers.

use automerge::{AutoCommit, ROOT, ReadDoc};
use autosurgeon::{Hydrate, Reconcile, hydrate_prop};
use chrono::NaiveDate;
use pustaka_domain::Millis;
use uuid::Uuid;

use crate::ReplicaError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentKind {
    /// Renew one loan. `seen_due` is the due date the device showed; if the
    /// loan was renewed since (by another device), the renewal is not repeated.
    Renew {
        copy: String,
        seen_due: Option<NaiveDate>,
    },
    RenewAll,
    PlaceHold {
        title: String,
        branch: String,
    },
    CancelHold {
        hold: String,
    },
    SuspendHold {
        hold: String,
        until: NaiveDate,
    },
    ResumeHold {
        hold: String,
    },
    ChangePickup {
        hold: String,
        branch: String,
    },
    RegisterEvent {
        event: String,
    },
    CancelRegistration {
        event: String,
    },
    /// Keep the patron's loan history (`true`) or stop keeping it and delete
    /// what was kept (`false`).
    SetHistory {
        keep: bool,
    },
    /// A question for a librarian (the FAQ had no good answer), in the
    /// patron's language (`id` or `en`).
    AskLibrarian {
        question: String,
        lang: String,
    },
    /// Answers to a survey: question id → a rating (`1`..`5`), a choice's
    /// index, or free text. The library counts one answer per patron.
    AnswerSurvey {
        survey: String,
        answers: std::collections::BTreeMap<String, String>,
    },
}

impl IntentKind {
    pub fn code(&self) -> &'static str {
        match self {
            IntentKind::Renew { .. } => "renew",
            IntentKind::RenewAll => "renew_all",
            IntentKind::PlaceHold { .. } => "place_hold",
            IntentKind::CancelHold { .. } => "cancel_hold",
            IntentKind::SuspendHold { .. } => "suspend_hold",
            IntentKind::ResumeHold { .. } => "resume_hold",
            IntentKind::ChangePickup { .. } => "change_pickup",
            IntentKind::RegisterEvent { .. } => "register_event",
            IntentKind::CancelRegistration { .. } => "cancel_registration",
            IntentKind::SetHistory { .. } => "set_history",
            IntentKind::AskLibrarian { .. } => "ask_librarian",
            IntentKind::AnswerSurvey { .. } => "answer_survey",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: Uuid,
    pub kind: IntentKind,
    pub created_at: Millis,
    pub device: String,
}

/// The stored shape: flat, every field present (null when unused), so a
/// strict hydrate can tell a malformed entry from a valid one.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct IntentDoc {
    pub kind: String,
    pub created_at: i64,
    pub device: String,
    pub copy: Option<String>,
    pub seen_due: Option<String>,
    pub title: Option<String>,
    pub branch: Option<String>,
    pub hold: Option<String>,
    pub until: Option<String>,
    pub event: Option<String>,
    /// Absent in intents written before `set_history` existed.
    #[autosurgeon(missing = "Default::default")]
    pub keep: Option<bool>,
    /// Free text (a question); absent in intents written before it existed.
    #[autosurgeon(missing = "Default::default")]
    pub text: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub lang: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub survey: Option<String>,
}

/// Longest id or argument a device may send; longer means malformed.
const MAX_ARG_LEN: usize = 128;
/// Longest free text (a question to a librarian, an answer), in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// A question for a librarian as it may be sent: trimmed, not empty, at
/// most [`MAX_TEXT_CHARS`]; else the stable code saying why not.
pub fn question_text(question: &str) -> Result<&str, &'static str> {
    let q = question.trim();
    if q.is_empty() {
        Err("empty_question")
    } else if q.chars().count() > MAX_TEXT_CHARS {
        Err("question_too_long")
    } else {
        Ok(q)
    }
}
/// Most answers in one survey intent.
pub const MAX_SURVEY_ANSWERS: usize = 50;

impl Intent {
    /// A new intent. `rand` supplies the random part of the UUIDv7 so that
    /// callers (and tests) control randomness.
    pub fn new(kind: IntentKind, now: Millis, device: &str, rand: [u8; 10]) -> Intent {
        Intent {
            id: uuid_v7(now, rand),
            kind,
            created_at: now,
            device: device.to_string(),
        }
    }

    fn to_doc(&self) -> IntentDoc {
        let mut d = IntentDoc {
            kind: self.kind.code().into(),
            created_at: self.created_at,
            device: self.device.clone(),
            ..Default::default()
        };
        match &self.kind {
            IntentKind::Renew { copy, seen_due } => {
                d.copy = Some(copy.clone());
                d.seen_due = seen_due.map(|s| s.to_string());
            }
            IntentKind::RenewAll => {}
            IntentKind::PlaceHold { title, branch } => {
                d.title = Some(title.clone());
                d.branch = Some(branch.clone());
            }
            IntentKind::CancelHold { hold } | IntentKind::ResumeHold { hold } => {
                d.hold = Some(hold.clone())
            }
            IntentKind::SuspendHold { hold, until } => {
                d.hold = Some(hold.clone());
                d.until = Some(until.to_string());
            }
            IntentKind::ChangePickup { hold, branch } => {
                d.hold = Some(hold.clone());
                d.branch = Some(branch.clone());
            }
            IntentKind::RegisterEvent { event } | IntentKind::CancelRegistration { event } => {
                d.event = Some(event.clone())
            }
            IntentKind::SetHistory { keep } => d.keep = Some(*keep),
            IntentKind::AskLibrarian { question, lang } => {
                d.text = Some(question.clone());
                d.lang = Some(lang.clone());
            }
            IntentKind::AnswerSurvey { survey, answers } => {
                d.survey = Some(survey.clone());
                d.text = serde_json::to_string(answers).ok();
            }
        }
        d
    }

    fn from_doc(id: &str, d: IntentDoc) -> Result<Intent, String> {
        let id =
            Uuid::parse_str(id).map_err(|_| format!("intent id `{}` is not a UUID", clip(id)))?;
        if id.get_version_num() != 7 {
            return Err("intent id is not a UUIDv7".into());
        }
        let arg = |name: &str, v: &Option<String>| -> Result<String, String> {
            match v {
                Some(s) if !s.is_empty() && s.len() <= MAX_ARG_LEN => Ok(s.clone()),
                Some(_) => Err(format!("`{name}` is empty or too long")),
                None => Err(format!("`{name}` is missing")),
            }
        };
        let day = |name: &str, v: &Option<String>| -> Result<NaiveDate, String> {
            arg(name, v)?
                .parse()
                .map_err(|_| format!("`{name}` is not a date"))
        };
        let kind = match d.kind.as_str() {
            "renew" => IntentKind::Renew {
                copy: arg("copy", &d.copy)?,
                seen_due: match &d.seen_due {
                    None => None,
                    s => Some(day("seen_due", s)?),
                },
            },
            "renew_all" => IntentKind::RenewAll,
            "place_hold" => IntentKind::PlaceHold {
                title: arg("title", &d.title)?,
                branch: arg("branch", &d.branch)?,
            },
            "cancel_hold" => IntentKind::CancelHold {
                hold: arg("hold", &d.hold)?,
            },
            "suspend_hold" => IntentKind::SuspendHold {
                hold: arg("hold", &d.hold)?,
                until: day("until", &d.until)?,
            },
            "resume_hold" => IntentKind::ResumeHold {
                hold: arg("hold", &d.hold)?,
            },
            "change_pickup" => IntentKind::ChangePickup {
                hold: arg("hold", &d.hold)?,
                branch: arg("branch", &d.branch)?,
            },
            "register_event" => IntentKind::RegisterEvent {
                event: arg("event", &d.event)?,
            },
            "cancel_registration" => IntentKind::CancelRegistration {
                event: arg("event", &d.event)?,
            },
            "set_history" => IntentKind::SetHistory {
                keep: d.keep.ok_or("`keep` is missing")?,
            },
            "ask_librarian" => IntentKind::AskLibrarian {
                question: match &d.text {
                    Some(t) if !t.trim().is_empty() && t.chars().count() <= MAX_TEXT_CHARS => {
                        t.trim().to_string()
                    }
                    Some(_) => return Err("`text` is empty or too long".into()),
                    None => return Err("`text` is missing".into()),
                },
                lang: match arg("lang", &d.lang)?.as_str() {
                    l @ ("id" | "en") => l.to_string(),
                    _ => return Err("`lang` is not id or en".into()),
                },
            },
            "answer_survey" => IntentKind::AnswerSurvey {
                survey: arg("survey", &d.survey)?,
                answers: {
                    let text = d.text.as_deref().ok_or("`text` is missing")?;
                    let answers: std::collections::BTreeMap<String, String> =
                        serde_json::from_str(text)
                            .map_err(|_| "`text` is not a map of answers".to_string())?;
                    if answers.is_empty()
                        || answers.len() > MAX_SURVEY_ANSWERS
                        || answers.iter().any(|(k, v)| {
                            k.is_empty()
                                || k.len() > MAX_ARG_LEN
                                || v.chars().count() > MAX_TEXT_CHARS
                        })
                    {
                        return Err("the answers are empty, too many or too long".into());
                    }
                    answers
                },
            },
            other => return Err(format!("unknown intent kind `{}`", clip(other))),
        };
        if d.device.len() > MAX_ARG_LEN {
            return Err("`device` is too long".into());
        }
        Ok(Intent {
            id,
            kind,
            created_at: d.created_at,
            device: d.device,
        })
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Builds a UUIDv7 from a millisecond timestamp and 10 random bytes.
pub fn uuid_v7(now: Millis, rand: [u8; 10]) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (now.max(0) / 1000) as u64,
        ((now.max(0) % 1000) * 1_000_000) as u32,
    );
    let mut bytes = *Uuid::new_v7(ts).as_bytes();
    // Keep the 48-bit timestamp and version/variant bits; fill the rest.
    bytes[6] = 0x70 | (rand[0] & 0x0f);
    bytes[7] = rand[1];
    bytes[8] = 0x80 | (rand[2] & 0x3f);
    bytes[9..16].copy_from_slice(&rand[3..10]);
    Uuid::from_bytes(bytes)
}

/// Appends an intent. Intents are never edited or removed by a device.
/// Written field by field (a new map under a new key): the same shape
/// [`IntentDoc`] hydrates strictly, without reconciling against nothing.
pub fn append_intent(doc: &mut AutoCommit, intent: &Intent) -> Result<(), ReplicaError> {
    use automerge::{ObjType, ScalarValue, transaction::Transactable};
    let d = intent.to_doc();
    let obj = doc.put_object(ROOT, intent.id.to_string(), ObjType::Map)?;
    doc.put(&obj, "kind", d.kind)?;
    doc.put(&obj, "created_at", d.created_at)?;
    doc.put(&obj, "device", d.device)?;
    for (name, value) in [
        ("copy", d.copy),
        ("seen_due", d.seen_due),
        ("title", d.title),
        ("branch", d.branch),
        ("hold", d.hold),
        ("until", d.until),
        ("event", d.event),
        ("text", d.text),
        ("lang", d.lang),
        ("survey", d.survey),
    ] {
        match value {
            Some(v) => doc.put(&obj, name, v)?,
            None => doc.put(&obj, name, ScalarValue::Null)?,
        }
    }
    match d.keep {
        Some(k) => doc.put(&obj, "keep", k)?,
        None => doc.put(&obj, "keep", ScalarValue::Null)?,
    }
    Ok(())
}

/// Every entry of an `intents` document, each parsed on its own: a malformed
/// entry is reported with its key and never hides the others.
pub fn read_intents(doc: &AutoCommit) -> Vec<(String, Result<Intent, String>)> {
    read_intents_with_keys(doc, doc.keys(ROOT).collect())
}

/// The entries at `keys` only (the caller already knows the others).
pub fn read_intents_with_keys(
    doc: &AutoCommit,
    keys: Vec<String>,
) -> Vec<(String, Result<Intent, String>)> {
    keys.into_iter()
        .map(|k| {
            let parsed = hydrate_prop::<_, IntentDoc, _, _>(doc, ROOT, k.as_str())
                .map_err(|e| format!("entry does not follow the intent schema: {e}"))
                .and_then(|d| Intent::from_doc(&k, d));
            (k, parsed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, transaction::Transactable};
    use autosurgeon::reconcile_prop;

    fn kinds() -> Vec<IntentKind> {
        let d: NaiveDate = "2026-12-01".parse().unwrap();
        vec![
            IntentKind::Renew {
                copy: "C1".into(),
                seen_due: Some(d),
            },
            IntentKind::Renew {
                copy: "C1".into(),
                seen_due: None,
            },
            IntentKind::RenewAll,
            IntentKind::PlaceHold {
                title: "T1".into(),
                branch: "pusat".into(),
            },
            IntentKind::CancelHold { hold: "H1".into() },
            IntentKind::SuspendHold {
                hold: "H1".into(),
                until: d,
            },
            IntentKind::ResumeHold { hold: "H1".into() },
            IntentKind::ChangePickup {
                hold: "H1".into(),
                branch: "barat".into(),
            },
            IntentKind::RegisterEvent { event: "E1".into() },
            IntentKind::CancelRegistration { event: "E1".into() },
            IntentKind::SetHistory { keep: true },
            IntentKind::SetHistory { keep: false },
            IntentKind::AskLibrarian {
                question: "Apakah ada buku Braille untuk anak?".into(),
                lang: "id".into(),
            },
            IntentKind::AnswerSurvey {
                survey: "S1".into(),
                answers: [("q1".to_string(), "5".to_string())].into_iter().collect(),
            },
        ]
    }

    #[test]
    fn every_kind_round_trips() {
        let mut doc = AutoCommit::new();
        let mut written = vec![];
        for (i, k) in kinds().into_iter().enumerate() {
            let it = Intent::new(k, 1_764_000_000_000 + i as i64, "dev-a", [i as u8; 10]);
            append_intent(&mut doc, &it).unwrap();
            written.push(it);
        }
        let mut read: Vec<Intent> = read_intents(&doc)
            .into_iter()
            .map(|(_, r)| r.unwrap())
            .collect();
        read.sort_by_key(|i| i.id);
        written.sort_by_key(|i| i.id);
        assert_eq!(read, written);
    }

    #[test]
    fn uuid_v7_orders_by_time() {
        let a = uuid_v7(1000, [9; 10]);
        let b = uuid_v7(2000, [0; 10]);
        assert!(a < b);
        assert_eq!(a.get_version_num(), 7);
    }

    #[test]
    fn an_intent_written_before_set_history_existed_still_reads() {
        let mut doc = AutoCommit::new();
        let old = Intent::new(IntentKind::RenewAll, 5, "d", [1; 10]);
        append_intent(&mut doc, &old).unwrap();
        let Some((_, entry)) = doc.get(ROOT, old.id.to_string()).unwrap() else {
            panic!("no entry");
        };
        doc.delete(&entry, "keep").unwrap();
        let read = read_intents(&doc);
        assert_eq!(read[0].1, Ok(old));
        // A set_history without its `keep` is malformed, not a guess.
        let bad = Intent::new(IntentKind::SetHistory { keep: true }, 6, "d", [2; 10]);
        append_intent(&mut doc, &bad).unwrap();
        let Some((_, entry)) = doc.get(ROOT, bad.id.to_string()).unwrap() else {
            panic!("no entry");
        };
        doc.delete(&entry, "keep").unwrap();
        let read = read_intents_with_keys(&doc, vec![bad.id.to_string()]);
        assert_eq!(read[0].1, Err("`keep` is missing".to_string()));
    }

    #[test]
    fn malformed_entries_are_reported_one_by_one() {
        let mut doc = AutoCommit::new();
        let good = Intent::new(IntentKind::RenewAll, 5, "d", [1; 10]);
        append_intent(&mut doc, &good).unwrap();
        doc.put(ROOT, "not-a-uuid", "x").unwrap();
        let mut bad = good.to_doc();
        bad.kind = "steal_book".into();
        reconcile_prop(
            &mut doc,
            ROOT,
            uuid_v7(6, [2; 10]).to_string().as_str(),
            bad,
        )
        .unwrap();
        let mut missing = good.to_doc();
        missing.kind = "renew".into();
        reconcile_prop(
            &mut doc,
            ROOT,
            uuid_v7(7, [3; 10]).to_string().as_str(),
            missing,
        )
        .unwrap();
        let v4 = uuid::Uuid::from_bytes([0x11; 16]).to_string();
        reconcile_prop(&mut doc, ROOT, v4.as_str(), good.to_doc()).unwrap();

        let all = read_intents(&doc);
        assert_eq!(all.len(), 5);
        assert_eq!(all.iter().filter(|(_, r)| r.is_ok()).count(), 1);
        let errors: Vec<String> = all.into_iter().filter_map(|(_, r)| r.err()).collect();
        assert!(errors.iter().any(|e| e.contains("unknown intent kind")));
        assert!(errors.iter().any(|e| e.contains("`copy` is missing")));
        assert!(errors.iter().any(|e| e.contains("not a UUID")));
        assert!(errors.iter().any(|e| e.contains("UUIDv7")));
    }
}
