//! Saying values from concatenated prompts: digits, numbers, amounts and dates, in `pl`
//! and `en`.
//!
//! Owns: the grammar (Polish plural and gender rules, English number words) and the table
//! of prompt names below. Output is a list of prompt names relative to `sounds/<lang>/`;
//! `sounds/make_prompts.sh` renders them (its text column is in `dialplans/PROMPTS.md`).
//! Must not touch: playback, files, the interpreter.
//!
//! Prompt table (one file per name and language):
//!
//! | name | en | pl |
//! |---|---|---|
//! | `digits/0`..`digits/9` | zero..nine | zero, jeden, dwa, trzy, cztery, pięć, sześć, siedem, osiem, dziewięć |
//! | `digits/star`, `digits/hash`, `digits/plus` | star, hash, plus | gwiazdka, krzyżyk, plus |
//! | `num/10`..`num/19` | ten..nineteen | dziesięć..dziewiętnaście |
//! | `num/20`..`num/90` (tens) | twenty..ninety | dwadzieścia..dziewięćdziesiąt |
//! | `num/100`..`num/900` (pl only) | — | sto, dwieście, trzysta, czterysta, pięćset, …, dziewięćset |
//! | `num/hundred`, `num/thousand`, `num/million` (en only) | hundred, thousand, million | — |
//! | `num/1f`, `num/2f` (pl only, feminine) | — | jedna, dwie |
//! | `num/tysiac`, `num/tysiace`, `num/tysiecy` (pl) | — | tysiąc, tysiące, tysięcy |
//! | `num/milion`, `num/miliony`, `num/milionow` (pl) | — | milion, miliony, milionów |
//! | `currency/zloty`, `currency/zlote`, `currency/zlotych` | zloty, —, — | złoty, złote, złotych |
//! | `currency/zlotys` (en) | zlotys | — |
//! | `currency/grosz`, `currency/grosze`, `currency/groszy` | grosz, —, groszy | grosz, grosze, groszy |
//! | `currency/euro`, `currency/euros` | euro, euros | euro, — |
//! | `currency/dollar`, `currency/dollars` (en) | dollar, dollars | — |
//! | `currency/dolar`, `currency/dolary`, `currency/dolarow` (pl) | — | dolar, dolary, dolarów |
//! | `currency/cent`, `currency/cents`, `currency/centy`, `currency/centow` | cent, cents, —, — | cent, —, centy, centów |
//! | `ord/1`..`ord/19`, `ord/20`..`ord/90` (tens) | first..nineteenth, twentieth..ninetieth | pierwszego..dziewiętnastego, dwudziestego..dziewięćdziesiątego (genitive) |
//! | `ord/2000` (pl) | — | dwutysięcznego |
//! | `month/1`..`month/12` | January..December | stycznia..grudnia (genitive) |
//! | `words/minus`, `words/and`, `words/roku` | minus, and, — | minus, —, roku |
//!
//! Polish rules: 1 takes the singular (`jeden złoty`, `tysiąc`), numbers ending in 2–4
//! except 12–14 take the "few" plural (`dwa złote`, `dwadzieścia dwa tysiące`), all others the
//! "many" plural (`pięć złotych`, `dwadzieścia jeden złotych`). Feminine nouns change a
//! standalone 1 to `jedna` and a final 2 to `dwie`. Dates are read as ordinals in the
//! genitive: `piątego maja dwa tysiące dwudziestego piątego roku`.

use serde_json::Value;

/// Grammatical gender of the counted noun (matters for Polish only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gender {
    /// Masculine (also used for bare numbers).
    #[default]
    Masculine,
    /// Feminine: `jedna`, `dwie`.
    Feminine,
}

/// A currency that amounts can be said in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Currency {
    /// Polish złoty (100 groszy).
    Pln,
    /// Euro (100 cents).
    Eur,
    /// US dollar (100 cents).
    Usd,
}

impl Currency {
    /// Parses an ISO 4217 code (`PLN`, `EUR`, `USD`, any case).
    pub fn from_code(code: &str) -> Option<Currency> {
        match code.to_ascii_uppercase().as_str() {
            "PLN" => Some(Currency::Pln),
            "EUR" => Some(Currency::Eur),
            "USD" => Some(Currency::Usd),
            _ => None,
        }
    }
}

/// Why a value cannot be said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SayError {
    /// Only `pl` and `en` have a grammar here.
    #[error("no number grammar for language '{0}'")]
    UnsupportedLanguage(String),
    /// The value is outside what can be said (|n| > 999,999,999, years outside 1901–2099).
    #[error("{0} is out of range")]
    OutOfRange(i64),
    /// The value has the wrong shape for the form (e.g. a date that is not `YYYY-MM-DD`).
    #[error("cannot say {0}")]
    BadValue(String),
}

/// Languages with a grammar.
pub const LANGUAGES: [&str; 2] = ["en", "pl"];

const MAX: i64 = 999_999_999;

/// Digit by digit; `*`, `#` and `+` are said, other characters are skipped.
pub fn digits(text: &str) -> Vec<String> {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(format!("digits/{c}")),
            '*' => Some("digits/star".to_owned()),
            '#' => Some("digits/hash".to_owned()),
            '+' => Some("digits/plus".to_owned()),
            _ => None,
        })
        .collect()
}

/// A cardinal number (|n| ≤ 999,999,999).
pub fn number(n: i64, lang: &str, gender: Gender) -> Result<Vec<String>, SayError> {
    if !(-MAX..=MAX).contains(&n) {
        return Err(SayError::OutOfRange(n));
    }
    let mut out = Vec::new();
    if n < 0 {
        out.push("words/minus".to_owned());
    }
    let n = n.unsigned_abs() as u32;
    match lang {
        "pl" => pl_number(n, gender, &mut out),
        "en" => en_number(n, &mut out),
        other => return Err(SayError::UnsupportedLanguage(other.to_owned())),
    }
    Ok(out)
}

/// An amount given in minor units (grosze, cents): `250` PLN is "dwa złote pięćdziesiąt groszy".
pub fn amount(minor: i64, currency: Currency, lang: &str) -> Result<Vec<String>, SayError> {
    if minor.unsigned_abs() / 100 > MAX as u64 {
        return Err(SayError::OutOfRange(minor / 100));
    }
    let mut out = Vec::new();
    if minor < 0 {
        out.push("words/minus".to_owned());
    }
    let major = (minor.unsigned_abs() / 100) as u32;
    let cents = (minor.unsigned_abs() % 100) as u32;
    let names: [[&str; 3]; 2] = match (lang, currency) {
        ("pl", Currency::Pln) => [["zloty", "zlote", "zlotych"], ["grosz", "grosze", "groszy"]],
        ("pl", Currency::Eur) => [["euro", "euro", "euro"], ["cent", "centy", "centow"]],
        ("pl", Currency::Usd) => [["dolar", "dolary", "dolarow"], ["cent", "centy", "centow"]],
        ("en", Currency::Pln) => [["zloty", "zlotys", "zlotys"], ["grosz", "groszy", "groszy"]],
        ("en", Currency::Eur) => [["euro", "euros", "euros"], ["cent", "cents", "cents"]],
        ("en", Currency::Usd) => [["dollar", "dollars", "dollars"], ["cent", "cents", "cents"]],
        (other, _) => return Err(SayError::UnsupportedLanguage(other.to_owned())),
    };
    let pl = lang == "pl";
    let form = |n: u32| {
        if pl {
            pl_plural(n)
        } else {
            usize::from(n != 1)
        }
    };
    if major > 0 || cents == 0 {
        push_number(major, lang, &mut out);
        out.push(format!("currency/{}", names[0][form(major)]));
    }
    if cents > 0 {
        if major > 0 && !pl {
            out.push("words/and".to_owned());
        }
        push_number(cents, lang, &mut out);
        out.push(format!("currency/{}", names[1][form(cents)]));
    }
    Ok(out)
}

/// A calendar date. Polish: `piątego maja dwa tysiące dwudziestego piątego roku`;
/// English: `May fifth two thousand twenty-five`.
pub fn date(year: i32, month: u32, day: u32, lang: &str) -> Result<Vec<String>, SayError> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(SayError::BadValue(format!("{year}-{month}-{day}")));
    }
    let mut out = Vec::new();
    match lang {
        "pl" => {
            if !(1901..=2099).contains(&year) {
                return Err(SayError::OutOfRange(i64::from(year)));
            }
            pl_ordinal(day, &mut out);
            out.push(format!("month/{month}"));
            let rest = (year % 100) as u32;
            match year {
                2000 => out.push("ord/2000".to_owned()),
                2001..=2099 => {
                    out.extend(["digits/2", "num/tysiace"].map(str::to_owned));
                    pl_ordinal(rest, &mut out);
                }
                _ if rest == 0 => return Err(SayError::OutOfRange(i64::from(year))),
                _ => {
                    out.extend(["num/tysiac", "num/900"].map(str::to_owned));
                    pl_ordinal(rest, &mut out);
                }
            }
            out.push("words/roku".to_owned());
        }
        "en" => {
            if !(1..=MAX).contains(&i64::from(year)) {
                return Err(SayError::OutOfRange(i64::from(year)));
            }
            out.push(format!("month/{month}"));
            if day < 20 || day.is_multiple_of(10) {
                out.push(format!("ord/{day}"));
            } else {
                out.push(format!("num/{}", day / 10 * 10));
                out.push(format!("ord/{}", day % 10));
            }
            en_number(year.unsigned_abs(), &mut out);
        }
        other => return Err(SayError::UnsupportedLanguage(other.to_owned())),
    }
    Ok(out)
}

/// Says a JSON value in the given form (`"digits"`, `"number"`, `"amount"`, `"date"`).
/// Amounts are in major units (`12.5` or `"12.50"`); dates are `YYYY-MM-DD…` strings.
pub fn value(
    form: crate::dialplan::model::SayForm,
    v: &Value,
    lang: &str,
) -> Result<Vec<String>, SayError> {
    use crate::dialplan::model::SayForm;
    let bad = || SayError::BadValue(v.to_string());
    match form {
        SayForm::Digits => match v {
            Value::String(s) => Ok(digits(s)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(digits(&n.to_string())),
            _ => Err(bad()),
        },
        SayForm::Number(gender) => {
            let n = match v {
                Value::Number(n) => n.as_i64().ok_or_else(bad)?,
                Value::String(s) => s.trim().parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            number(n, lang, gender)
        }
        SayForm::Amount(currency) => {
            let minor = match v {
                Value::Number(n) => match n.as_i64() {
                    Some(i) => i.checked_mul(100).ok_or_else(bad)?,
                    None => (n.as_f64().ok_or_else(bad)? * 100.0).round() as i64,
                },
                Value::String(s) => parse_minor(s).ok_or_else(bad)?,
                _ => return Err(bad()),
            };
            amount(minor, currency, lang)
        }
        SayForm::Date => {
            let s = v.as_str().ok_or_else(bad)?;
            let day = s.get(..10).ok_or_else(bad)?;
            let (y, m, d) = crate::dialplan::calendar::parse_date(day).ok_or_else(bad)?;
            date(y, m, d, lang)
        }
    }
}

/// Every prompt name the given form may produce in `lang` (for validation).
pub fn prompts(form: crate::dialplan::model::SayForm, lang: &str) -> Vec<String> {
    use crate::dialplan::model::SayForm;
    let mut out = digits("0123456789");
    match form {
        SayForm::Digits => out.extend(digits("*#+")),
        SayForm::Number(_) | SayForm::Amount(_) | SayForm::Date => {
            out.extend((10..20).map(|n| format!("num/{n}")));
            out.extend((2..10).map(|n| format!("num/{}", n * 10)));
            out.push("words/minus".to_owned());
            if lang == "pl" {
                out.extend((1..10).map(|n| format!("num/{}", n * 100)));
                for n in ["1f", "2f", "tysiac", "tysiace", "tysiecy"] {
                    out.push(format!("num/{n}"));
                }
                out.extend(["milion", "miliony", "milionow"].map(|n| format!("num/{n}")));
            } else {
                out.extend(["hundred", "thousand", "million"].map(|n| format!("num/{n}")));
            }
        }
    }
    if let SayForm::Amount(c) = form {
        for minor in [0, 1, 2, 5, 100, 200, 500] {
            if let Ok(names) = amount(minor, c, lang) {
                out.extend(names.into_iter().filter(|n| n.starts_with("currency/")));
            }
        }
        if lang == "en" {
            out.push("words/and".to_owned());
        }
    }
    if form == SayForm::Date {
        out.extend((1..20).map(|n| format!("ord/{n}")));
        out.extend((2..10).map(|n| format!("ord/{}", n * 10)));
        out.extend((1..13).map(|n| format!("month/{n}")));
        if lang == "pl" {
            out.extend(["ord/2000", "words/roku"].map(str::to_owned));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Index of the Polish plural form: 0 = one, 1 = few (2–4 but not 12–14), 2 = many.
pub fn pl_plural(n: u32) -> usize {
    if n == 1 {
        0
    } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
        1
    } else {
        2
    }
}

fn push_number(n: u32, lang: &str, out: &mut Vec<String>) {
    if lang == "pl" {
        pl_number(n, Gender::Masculine, out);
    } else {
        en_number(n, out);
    }
}

fn pl_number(n: u32, gender: Gender, out: &mut Vec<String>) {
    if n == 0 {
        out.push("digits/0".to_owned());
        return;
    }
    if n == 1 && gender == Gender::Feminine {
        out.push("num/1f".to_owned());
        return;
    }
    let groups = [
        (n / 1_000_000, ["num/milion", "num/miliony", "num/milionow"]),
        (
            (n / 1000) % 1000,
            ["num/tysiac", "num/tysiace", "num/tysiecy"],
        ),
    ];
    for (count, forms) in groups {
        if count == 1 {
            out.push(forms[0].to_owned());
        } else if count > 1 {
            pl_triple(count, Gender::Masculine, out);
            out.push(forms[pl_plural(count)].to_owned());
        }
    }
    pl_triple(n % 1000, gender, out);
}

fn pl_triple(t: u32, gender: Gender, out: &mut Vec<String>) {
    if t >= 100 {
        out.push(format!("num/{}", t / 100 * 100));
    }
    let r = t % 100;
    if (10..20).contains(&r) {
        out.push(format!("num/{r}"));
        return;
    }
    if r >= 20 {
        out.push(format!("num/{}", r / 10 * 10));
    }
    match (r % 10, gender) {
        (0, _) => {}
        (2, Gender::Feminine) => out.push("num/2f".to_owned()),
        (u, _) => out.push(format!("digits/{u}")),
    }
}

fn pl_ordinal(n: u32, out: &mut Vec<String>) {
    if n < 20 || n.is_multiple_of(10) {
        out.push(format!("ord/{n}"));
    } else {
        out.push(format!("ord/{}", n / 10 * 10));
        out.push(format!("ord/{}", n % 10));
    }
}

fn en_number(n: u32, out: &mut Vec<String>) {
    if n == 0 {
        out.push("digits/0".to_owned());
        return;
    }
    for (count, word) in [
        (n / 1_000_000, "num/million"),
        ((n / 1000) % 1000, "num/thousand"),
    ] {
        if count > 0 {
            en_triple(count, out);
            out.push(word.to_owned());
        }
    }
    en_triple(n % 1000, out);
}

fn en_triple(t: u32, out: &mut Vec<String>) {
    if t >= 100 {
        out.push(format!("digits/{}", t / 100));
        out.push("num/hundred".to_owned());
    }
    let r = t % 100;
    if (10..20).contains(&r) {
        out.push(format!("num/{r}"));
        return;
    }
    if r >= 20 {
        out.push(format!("num/{}", r / 10 * 10));
    }
    if !r.is_multiple_of(10) {
        out.push(format!("digits/{}", r % 10));
    }
}

fn parse_minor(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (major, frac) = s.split_once(['.', ',']).unwrap_or((s, ""));
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let major: i64 = major.parse().ok()?;
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = major.checked_mul(100)?.checked_add(cents)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
#[path = "say_tests.rs"]
mod tests;
