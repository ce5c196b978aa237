//! Plausible values for the elements a hand-written demo record leaves out, so that every
//! documented element of every object carries data somewhere in the demo set. Values follow
//! the element's type, enumeration, range and maximum length, and its name (an `...-email`
//! gets an address, a `...-date` a date, a `...-pct` a percentage); the same record index
//! always gives the same values.

use serde_json::{Map, Value as Json, json};

use super::{DAY, pick};
use crate::api::derive;
use crate::api::model::{self, Embedded, Field, FieldType, ObjectDef};

const CITIES: &[(&str, &str, &str, &str)] = &[
    ("San Mateo", "CA", "94403", "US"),
    ("Chicago", "IL", "60601", "US"),
    ("Dublin", "D", "D02 X285", "IE"),
    ("London", "LND", "EC1A 1BB", "GB"),
    ("Berlin", "BE", "10115", "DE"),
];
const COMPANIES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Tailspin Toys",
    "Woodgrove Bank",
    "Litware",
];
const PEOPLE: &[&str] = &[
    "Jordan Lee",
    "Priya Raman",
    "Mateo Garcia",
    "Chen Wei",
    "Amara Okafor",
];

/// Where a record sits in the demo set: its index among the records of its object (which
/// varies the values) and its creation time (which anchors its dates).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub index: i64,
    pub at: i64,
}

/// Gives the id of an already loaded record of an object (by path) for a record index, if
/// that object has records yet.
pub type Ids<'a> = &'a dyn Fn(&str, i64) -> Option<i64>;

/// Adds to `body` a plausible value for every element of `object` it leaves out: fields,
/// references to loaded records, associations kept as JSON and, for a top-level record, one
/// line of each kind it has none of (and the missing elements of the lines it has).
pub fn complete(object: &ObjectDef, body: &mut Map<String, Json>, slot: Slot, ids: Ids<'_>) {
    complete_record(object, body, slot, ids, None);
    let status = body.get("status").cloned();
    for lines in object.lines.iter().filter(|lines| !lines.linked()) {
        let Some(line_object) = model::object(lines.object) else {
            continue;
        };
        let key = given_key(body, lines.name).unwrap_or_else(|| lines.name.to_string());
        let entry = body.entry(key).or_insert_with(|| json!([{}]));
        if let Json::Array(items) = entry {
            for (position, item) in items.iter_mut().enumerate() {
                if let Json::Object(line) = item {
                    // A line whose statuses nothing documents follows its document's.
                    if let Some(status) = &status
                        && line_object
                            .field("status")
                            .is_some_and(|field| field.values.is_empty())
                        && statuses(line_object).is_none()
                    {
                        line.entry("status").or_insert_with(|| status.clone());
                    }
                    let line_slot = Slot {
                        index: slot.index * 4 + position as i64,
                        at: slot.at,
                    };
                    complete_record(line_object, line, line_slot, ids, Some(lines.parent));
                }
            }
        }
    }
}

/// The key of `body` naming element `name`, hyphenated or not.
fn given_key(body: &Map<String, Json>, name: &str) -> Option<String> {
    body.keys()
        .find(|key| key.replace('_', "-") == name)
        .cloned()
}

fn complete_record(
    object: &ObjectDef,
    body: &mut Map<String, Json>,
    slot: Slot,
    ids: Ids<'_>,
    parent: Option<&str>,
) {
    let referenced = |field: &Field| {
        object
            .references
            .iter()
            .any(|reference| reference.slot == field.slot)
    };
    for field in object.fields {
        if given_key(body, field.name).is_some()
            || model::SYSTEM_ELEMENTS.contains(&field.name)
            || field.name == model::CUSTOM_FIELDS
            || referenced(field)
            || derive::computed(object.path, field.name)
            || crate::files::kept_with_files(object.path, field.name)
            || (series_member(field.name) && slot.index % 8 != 0)
        {
            continue;
        }
        if let Some(value) = plausible(object, field, slot) {
            body.insert(field.name.to_string(), value);
        }
    }
    for reference in object.references {
        if Some(reference.name) == parent || given_key(body, reference.name).is_some() {
            continue;
        }
        if let Some(id) = ids(reference.object, slot.index) {
            body.insert(reference.name.to_string(), json!({ "id": id }));
        }
    }
    for embedded in object.embedded {
        if given_key(body, embedded.name).is_none() {
            body.insert(embedded.name.to_string(), associated(embedded, slot, ids));
        }
    }
}

/// A member past the first of a numbered series (`segment-2`, `level-5-name`,
/// `custom-field-10`): filled in one record of eight, as real charts of accounts and forms use
/// a few of them.
fn series_member(name: &str) -> bool {
    name.split('-')
        .filter_map(|part| part.parse::<u32>().ok())
        .any(|number| number >= 2)
}

/// A stable number for an element name, to vary values between elements of one record.
fn spread(name: &str) -> i64 {
    name.bytes()
        .fold(0x811c_9dc5_u32, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        })
        .into()
}

/// `Title case` of an element name: `supplier-note` → `Supplier note`.
fn title(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Capital initials of an element name, for codes: `tax-code` → `TC`.
fn initials(name: &str) -> String {
    name.split('-')
        .filter_map(|word| word.chars().next())
        .filter(char::is_ascii_alphabetic)
        .map(|letter| letter.to_ascii_uppercase())
        .collect()
}

/// A value for `field` of record `slot`, or None when none would be plausible.
pub fn plausible(object: &ObjectDef, field: &Field, slot: Slot) -> Option<Json> {
    let name = field.name;
    let turn = slot.index + spread(name);
    if name == "status" && field.values.is_empty() {
        return statuses(object).map(|list| json!(pick(&list, slot.index)));
    }
    if !field.values.is_empty() {
        return Some(json!(pick(field.values, turn)));
    }
    let value = match field.kind {
        FieldType::Boolean => json!(turn % 4 == 0),
        FieldType::DateTime => json!(crate::domain::time::format_rfc3339(date(name, slot))),
        FieldType::Integer => json!(integer(name, turn)),
        FieldType::Decimal => json!(decimal(name, turn)),
        FieldType::String => json!(text(object, name, slot.index)),
    };
    fit(field, value)
}

/// Keeps a value inside the field's range and maximum length.
fn fit(field: &Field, value: Json) -> Option<Json> {
    match value {
        Json::String(text) => {
            if let Some((low, high)) = field.range
                && let Ok(number) = text.parse::<f64>()
            {
                return Some(json!(format!("{:.2}", number.clamp(low, high))));
            }
            let max = field.max_length.unwrap_or(usize::MAX);
            (max > 0).then(|| json!(text.chars().take(max).collect::<String>()))
        }
        Json::Number(number) => match (field.range, number.as_i64()) {
            (Some((low, high)), Some(whole)) => {
                Some(json!((whole as f64).clamp(low, high).round() as i64))
            }
            _ => Some(Json::Number(number)),
        },
        other => Some(other),
    }
}

/// The statuses an object's actions move between, for a status without an enumeration.
fn statuses(object: &ObjectDef) -> Option<Vec<&'static str>> {
    let mut list: Vec<&'static str> = object.initial_status.into_iter().collect();
    for action in object.actions {
        for status in action.from.iter().copied().chain(action.to) {
            if !list.contains(&status) {
                list.push(status);
            }
        }
    }
    (!list.is_empty()).then_some(list)
}

fn date(name: &str, slot: Slot) -> i64 {
    let ahead = [
        "due", "end", "expir", "until", "renewal", "deadline", "delivery",
    ];
    if ahead.iter().any(|word| name.contains(word)) {
        slot.at + 30 * DAY
    } else {
        slot.at - (spread(name) % 10) * DAY - 3600
    }
}

fn integer(name: &str, turn: i64) -> i64 {
    if name.contains("day") {
        turn % 28 + 1
    } else if name.contains("month") {
        turn % 12 + 1
    } else if name.contains("hrs") || name.contains("hour") {
        24
    } else {
        turn % 9 + 1
    }
}

fn decimal(name: &str, turn: i64) -> String {
    if name.contains("hrs") || name.contains("hour") {
        "24.0".into()
    } else if ["pct", "percent", "rate", "discount-rate"]
        .iter()
        .any(|word| name.contains(word))
    {
        format!("{}.5", turn % 20)
    } else if ["quantity", "qty", "weight", "count"]
        .iter()
        .any(|word| name.contains(word))
    {
        format!("{}.0", turn % 12 + 1)
    } else {
        let cents = 1_000 + (turn * 7_919) % 250_000;
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}

fn text(object: &ObjectDef, name: &str, index: i64) -> String {
    let (city, state, postal, country) = CITIES[index.rem_euclid(CITIES.len() as i64) as usize];
    let has = |words: &[&str]| words.iter().any(|word| name.contains(word));
    let number = 1000 + index;
    if has(&["email"]) {
        format!("{}.{number}@example.com", object.element)
    } else if has(&["url", "website"]) {
        format!("https://{}.example/{number}", object.element)
    } else if has(&["domain"]) {
        "example.com".into()
    } else if has(&["phone", "fax"]) {
        format!("+1 415 555 {:04}", number)
    } else if has(&["password", "secret"]) {
        format!("demo-secret-{number}")
    } else if has(&["postal", "zip"]) {
        postal.into()
    } else if has(&["city", "municipality"]) {
        city.into()
    } else if has(&["country"]) {
        country.into()
    } else if name == "state" || name.ends_with("-state") {
        state.into()
    } else if has(&["street", "attention"]) {
        format!("{} Market Street", 100 + index)
    } else if has(&["currency"]) {
        pick(&["USD", "EUR", "GBP"], index).into()
    } else if has(&["locale", "language"]) {
        pick(&["en", "en-GB", "de", "fr"], index).into()
    } else if has(&["-tz", "timezone", "time-zone"]) {
        pick(
            &["America/Chicago", "Europe/London", "Europe/Berlin"],
            index,
        )
        .into()
    } else if has(&["part-num"]) {
        format!("{}-{number:05}", pick(&["MPN", "SKU", "PN"], index))
    } else if has(&["supplier-name", "company", "manufacturer", "legal-entity"]) {
        pick(COMPANIES, index).into()
    } else if has(&[
        "representative",
        "requester-name",
        "collector",
        "issuer-name",
        "operator",
    ]) {
        pick(PEOPLE, index).into()
    } else if name.starts_with("segment") {
        format!("{}", 100 + (spread(name) + index).rem_euclid(900))
    } else if name == "code" || name.ends_with("-code") {
        format!("{}-{:03}", initials(name), index + 1)
    } else if has(&["number", "num", "-ref", "-id", "uuid", "identifier", "duns"]) {
        format!("{}-{number:06}", initials(name))
    } else if has(&[
        "description",
        "comment",
        "note",
        "reason",
        "justification",
        "message",
        "terms",
    ]) {
        format!(
            "{} for {} {}.",
            title(name),
            object.element.replace('-', " "),
            index + 1
        )
    } else {
        format!("{} {}", title(name), index + 1)
    }
}

/// A value for an association kept as JSON: the id of a loaded record when it names an
/// object the API serves, otherwise a stand-in for what it documents.
fn associated(embedded: &Embedded, slot: Slot, ids: Ids<'_>) -> Json {
    let id = 1 + (slot.index + spread(embedded.name)).rem_euclid(40);
    let (_, _, _, country) = CITIES[slot.index.rem_euclid(CITIES.len() as i64) as usize];
    let item = if let Some(loaded) = ids(embedded.target, slot.index + spread(embedded.name)) {
        json!({ "id": loaded })
    } else if embedded.target == "countries" {
        json!({"id": id, "code": country})
    } else if embedded.target == "tax_registrations" {
        let number = format!("{country}{:09}", 100_000_000 + slot.index * 7_919);
        json!({"id": id, "number": number, "country": {"code": country}, "active": true})
    } else {
        json!({"id": id, "name": format!("{} {id}", title(embedded.item))})
    };
    if embedded.many { json!([item]) } else { item }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::records;

    fn no_ids(_: &str, _: i64) -> Option<i64> {
        None
    }

    fn some_ids(_: &str, index: i64) -> Option<i64> {
        Some(index + 1)
    }

    /// Every object, completed from nothing, is a valid record: each value the filler
    /// chooses passes the checks an API write goes through.
    #[test]
    fn completed_records_pass_every_write_check() {
        for object in model::objects() {
            for index in 0..3 {
                let mut body = Map::new();
                let slot = Slot {
                    index,
                    at: 1_767_603_600,
                };
                complete(object, &mut body, slot, &some_ids);
                let body = Json::Object(body);
                let parsed = records::parse_body(object, &body, true, records::Writer::Server, &[]);
                assert!(parsed.is_ok(), "{}: {:?}", object.path, parsed.err());
            }
        }
    }

    #[test]
    fn values_follow_names_and_stay_the_same() {
        let invoices = model::object("invoices").unwrap();
        let slot = Slot { index: 2, at: 0 };
        let mut first = Map::new();
        complete(invoices, &mut first, slot, &no_ids);
        let mut second = Map::new();
        complete(invoices, &mut second, slot, &no_ids);
        assert_eq!(first, second);
        assert!(
            first["sender-email"]
                .as_str()
                .unwrap()
                .ends_with("@example.com")
        );
        assert!(first["invoice-lines"].as_array().unwrap().len() == 1);
        assert!(!first.contains_key("gross-total"), "computed, not invented");
        assert!(!first.contains_key("custom-fields"));
        let status = first["status"].as_str().unwrap();
        assert!(
            invoices.field("status").unwrap().values.contains(&status),
            "{status}"
        );
    }

    #[test]
    fn series_are_sparse() {
        assert!(series_member("segment-2"));
        assert!(series_member("level-10-name"));
        assert!(!series_member("segment-1"));
        assert!(!series_member("street1"));
        assert_eq!(title("supplier-note"), "Supplier note");
        assert_eq!(initials("tax-code"), "TC");
    }
}
