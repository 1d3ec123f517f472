//! Hostile inputs derived from real state tests: every field deleted, retyped and set to
//! extremes; names with control characters, very long and non-ASCII; duplicate keys; deep
//! nesting; truncated files; random bytes and byte flips (seeded). Each input is one file's
//! bytes and what it damages.

use lockstep_conformance::JsonPath;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// One hostile input.
pub struct Input {
    /// The file name to write it under.
    pub file: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// What kind of damage: `delete`, `retype`, `extreme`, `name`, `duplicate`, `deep`,
    /// `truncate`, `random`, `flip`.
    pub kind: &'static str,
    /// The damaged test's name, when the damage is inside one test.
    pub test: Option<String>,
    /// The damaged field's path from the test (`.transaction.gasLimit[0]`), when there is one.
    pub field: Option<JsonPath>,
    /// The file also holds the undamaged test under the name `intact`, which must pass.
    pub intact: bool,
}

/// Where the damage goes in a test: a field that huge values are known to stall in the
/// executor (the blob base fee's series), not in the loader. Deleting or retyping it is
/// still done.
const NO_EXTREMES: &[&str] = &[".env.currentExcessBlobGas"];

/// Text that forges report lines and redraws terminals, for names.
pub const FORGED: &str = "\u{1b}[2K\rall 999 passed";

/// Names to give tests, forks, accounts and unknown fields.
pub fn strange_names() -> Vec<String> {
    vec![
        format!("x\n{FORGED}"),
        format!("\u{1b}[2J\u{1b}[H{FORGED}"),
        "\u{0}nul\u{7}bel\u{8}bs\u{7f}del\u{9b}csi".into(),
        "\u{202e}desrever\u{2066}isolate\u{2028}sep".into(),
        "x".repeat(10_000),
        "тест🦀名前 ünïcödé".into(),
        String::new(),
        "a :: b [Cancun d0 g0 v0]".into(),
        "quote\"back\\slash".into(),
        "\u{feff}bom".into(),
    ]
}

fn retypes() -> Vec<Value> {
    vec![json!("0x01"), json!(1), json!({}), json!([]), Value::Null, json!(true)]
}

fn extremes() -> Vec<Value> {
    vec![
        json!(format!("0x{}", "f".repeat(64))),
        json!(format!("0x1{}", "0".repeat(64))),
        json!(format!("0x{}", "f".repeat(4096))),
        json!(-1),
        json!("-0x01"),
        json!(18446744073709551616.0),
        json!(1.157920892373162e77),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(0.5),
        json!(""),
        json!("0x"),
        json!("0xzz"),
        json!("x".repeat(10_000)),
        json!(format!("0x{}", "0".repeat(10_000))),
        json!("тест🦀"),
        json!(format!("0x01\n{FORGED}")),
    ]
}

/// Every value in `v` with its path; arrays contribute their first two elements.
fn nodes(v: &Value, path: JsonPath, out: &mut Vec<(JsonPath, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = path.key(k.as_str());
                out.push((p.clone(), child.clone()));
                nodes(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate().take(2) {
                let p = path.index(i);
                out.push((p.clone(), child.clone()));
                nodes(child, p, out);
            }
        }
        _ => {}
    }
}

fn pointer(path: &JsonPath) -> String {
    use lockstep_conformance::json::Step;
    path.0
        .iter()
        .map(|s| match s {
            Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

fn parent(path: &JsonPath) -> (JsonPath, lockstep_conformance::json::Step) {
    let mut p = path.clone();
    let last = p.0.pop().expect("not the root");
    (p, last)
}

/// `test` with the value at `path` removed (`None`) or replaced.
fn with(test: &Value, path: &JsonPath, new: Option<Value>) -> Value {
    use lockstep_conformance::json::Step;
    let mut t = test.clone();
    match new {
        Some(v) => *t.pointer_mut(&pointer(path)).expect("the path exists") = v,
        None => {
            let (up, last) = parent(path);
            match (t.pointer_mut(&pointer(&up)).expect("the parent exists"), last) {
                (Value::Object(m), Step::Key(k)) => {
                    m.remove(&k);
                }
                (Value::Array(a), Step::Index(i)) => {
                    a.remove(i);
                }
                _ => unreachable!("a path step matches its container"),
            }
        }
    }
    t
}

/// The object at `path` in `test` with its key `old` renamed `new` (first in order).
fn renamed(test: &Value, path: &JsonPath, old: &str, new: &str) -> Value {
    let mut t = test.clone();
    if let Some(Value::Object(m)) = t.pointer_mut(&pointer(path)) {
        let v = m.remove(old).expect("the key exists");
        let rest = std::mem::take(m);
        m.insert(new.to_string(), v);
        m.extend(rest);
    }
    t
}

/// JSON text of `v` in which the object at `target` holds its first member twice.
fn with_duplicate(v: &Value, here: &JsonPath, target: &JsonPath, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            if here == target
                && let Some(first) = members.first().copied()
            {
                members.insert(1, first);
            }
            for (i, (k, child)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                with_duplicate(child, &here.key(k.as_str()), target, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, child) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                with_duplicate(child, &here.index(i), target, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// All inputs derived from `fixtures` (short name, the file's JSON, with one test each).
pub fn generate(fixtures: &[(String, Value)], seed: u64) -> Vec<Input> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<Input> = Vec::new();
    let mut push = |kind: &'static str, bytes: Vec<u8>, test: Option<&str>, field: Option<JsonPath>, intact: bool| {
        let n = out.len();
        out.push(Input {
            file: format!("{n:05}-{kind}.json"),
            bytes,
            kind,
            test: test.map(str::to_string),
            field,
            intact,
        });
    };
    // One damaged test beside the intact one.
    let file_with = |name: &str, damaged: Value, intact: &Value| -> Vec<u8> {
        let mut m = serde_json::Map::new();
        m.insert("intact".into(), intact.clone());
        m.insert(name.to_string(), damaged);
        serde_json::to_vec_pretty(&Value::Object(m)).unwrap()
    };
    for (_, file) in fixtures {
        let (name, test) = file.as_object().and_then(|m| m.iter().next()).expect("a fixture holds a test");
        let mut all = Vec::new();
        nodes(test, JsonPath::root(), &mut all);
        for (path, value) in &all {
            push("delete", file_with(name, with(test, path, None), test), Some(name), Some(path.clone()), true);
            for r in retypes() {
                if std::mem::discriminant(&r) == std::mem::discriminant(value) {
                    continue;
                }
                push("retype", file_with(name, with(test, path, Some(r)), test), Some(name), Some(path.clone()), true);
            }
            let leaf = !value.is_object() && !value.is_array();
            if leaf && !NO_EXTREMES.contains(&path.to_string().as_str()) {
                for x in extremes() {
                    let damaged = with(test, path, Some(x));
                    push("extreme", file_with(name, damaged, test), Some(name), Some(path.clone()), true);
                }
            }
        }
        // Strange names: the test, a fork, an account, an unknown field.
        let fork = test["post"].as_object().and_then(|m| m.keys().next().cloned()).expect("a fork");
        let account = test["pre"].as_object().and_then(|m| m.keys().next().cloned()).expect("an account");
        let post_entry = JsonPath::root().key("post").key(fork.as_str()).index(0);
        for s in strange_names() {
            // Under a strange name, a test that fails (a wrong state root) and one with an
            // error, so that the name is printed.
            let mut failing = test.clone();
            failing["post"][&fork][0]["hash"] = json!(format!("0x{}", "11".repeat(32)));
            push("name", file_with(&s, failing, test), Some(&s), None, true);
            let mut broken = test.clone();
            broken["post"][&fork][0]["indexes"]["data"] = json!(9);
            let field = post_entry.key("indexes").key("data");
            push("name", file_with(&s, broken, test), Some(&s), Some(field), true);
            let post = JsonPath::root().key("post");
            let damaged = renamed(test, &post, &fork, &s);
            push("name", file_with(name, damaged, test), Some(name), Some(post.key(s.as_str())), true);
            let pre = JsonPath::root().key("pre");
            let damaged = renamed(test, &pre, &account, &s);
            push("name", file_with(name, damaged, test), Some(name), Some(pre.key(s.as_str())), true);
            let mut damaged = test.clone();
            damaged[s.as_str()] = json!(1);
            push("name", file_with(name, damaged, test), Some(name), None, true);
        }
        // A key twice in every object (the first member repeated), and the test twice.
        for (path, value) in std::iter::once((JsonPath::root(), test.clone())).chain(all.iter().cloned()) {
            if value.as_object().is_none_or(|m| m.is_empty()) {
                continue;
            }
            let mut text = format!("{{\"intact\":{test},{}:", Value::String(name.clone()));
            with_duplicate(test, &JsonPath::root(), &path, &mut text);
            text.push('}');
            push("duplicate", text.into_bytes(), Some(name), Some(path.clone()), true);
        }
        let twice = format!("{{{n}:{test},\"intact\":{test},{n}:{test}}}", n = Value::String(name.clone()));
        push("duplicate", twice.into_bytes(), Some(name), Some(JsonPath::root()), true);
        // Nesting 100,000 deep: the whole file, and in fields of every kind.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        push("deep", deep.clone().into_bytes(), None, None, false);
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        push("deep", deep_objects.into_bytes(), None, None, false);
        for path in [".novelField", "._info", ".env.currentNumber", ".transaction.data[0]", ".pre"] {
            let p = parse_path(path);
            let mut damaged = test.clone();
            match damaged.pointer_mut(&pointer(&p)) {
                Some(v) => *v = json!("@@deep@@"),
                None => damaged[path.trim_start_matches('.')] = json!("@@deep@@"),
            }
            let text = String::from_utf8(file_with(name, damaged, test)).unwrap().replace("\"@@deep@@\"", &deep);
            push("deep", text.into_bytes(), Some(name), Some(p), true);
        }
        // Truncated: at 30 places, a third of them random.
        let whole = serde_json::to_vec_pretty(file).unwrap();
        for i in 0..30 {
            let at = if i < 20 { whole.len() * i / 20 } else { rng.random_range(0..whole.len()) };
            push("truncate", whole[..at].to_vec(), None, None, false);
        }
        // A few bytes flipped anywhere.
        for _ in 0..30 {
            let mut bytes = whole.clone();
            for _ in 0..rng.random_range(1..=4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
            push("flip", bytes, None, None, false);
        }
    }
    // Random bytes, random JSON-ish tokens.
    for i in 0..60 {
        let len = rng.random_range(0..4096);
        let bytes: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| rng.random()).collect()
        } else {
            const TOKENS: &[&str] =
                &["{", "}", "[", "]", ":", ",", "\"a\"", "1", "-", "null", "\"\\u0000\"", " ", "\n"];
            (0..len / 4).flat_map(|_| TOKENS[rng.random_range(0..TOKENS.len())].bytes()).collect()
        };
        push("random", bytes, None, None, false);
    }
    out
}

/// `.a.b[0]` as a path (plain keys only).
pub fn parse_path(s: &str) -> JsonPath {
    let mut p = JsonPath::root();
    for part in s.split('.').filter(|p| !p.is_empty()) {
        match part.split_once('[') {
            Some((k, i)) => p = p.key(k).index(i.trim_end_matches(']').parse().unwrap()),
            None => p = p.key(part),
        }
    }
    p
}
