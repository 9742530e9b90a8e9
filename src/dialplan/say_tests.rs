use super::*;
use crate::dialplan::model::SayForm;
use serde_json::json;

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn pl(n: i64) -> Vec<String> {
    number(n, "pl", Gender::Masculine).expect("in range")
}

fn en(n: i64) -> Vec<String> {
    number(n, "en", Gender::Masculine).expect("in range")
}

#[test]
fn polish_złote_plural_forms() {
    let pln = |minor| amount(minor, Currency::Pln, "pl").expect("in range");
    assert_eq!(pln(100), names(&["digits/1", "currency/zloty"]));
    assert_eq!(
        pln(200),
        names(&["digits/2", "currency/zlote"]),
        "dwa złote"
    );
    assert_eq!(
        pln(500),
        names(&["digits/5", "currency/zlotych"]),
        "pięć złotych"
    );
    assert_eq!(
        pln(1200),
        names(&["num/12", "currency/zlotych"]),
        "dwanaście złotych"
    );
    assert_eq!(pln(2200), names(&["num/20", "digits/2", "currency/zlote"]));
    assert_eq!(
        pln(2100),
        names(&["num/20", "digits/1", "currency/zlotych"])
    );
    assert_eq!(
        pln(11_400),
        names(&["num/100", "num/14", "currency/zlotych"])
    );
    assert_eq!(
        pln(250),
        names(&["digits/2", "currency/zlote", "num/50", "currency/groszy"])
    );
    assert_eq!(pln(1), names(&["digits/1", "currency/grosz"]));
    assert_eq!(pln(3), names(&["digits/3", "currency/grosze"]));
    assert_eq!(pln(0), names(&["digits/0", "currency/zlotych"]));
    assert_eq!(
        pln(-100_000),
        names(&["words/minus", "num/tysiac", "currency/zlotych"])
    );
}

#[test]
fn polish_thousands_and_millions() {
    assert_eq!(pl(1000), names(&["num/tysiac"]));
    assert_eq!(pl(2000), names(&["digits/2", "num/tysiace"]));
    assert_eq!(pl(5000), names(&["digits/5", "num/tysiecy"]));
    assert_eq!(pl(12_000), names(&["num/12", "num/tysiecy"]));
    assert_eq!(pl(22_000), names(&["num/20", "digits/2", "num/tysiace"]));
    assert_eq!(
        pl(1_234_567),
        names(&[
            "num/milion",
            "num/200",
            "num/30",
            "digits/4",
            "num/tysiace",
            "num/500",
            "num/60",
            "digits/7"
        ])
    );
    assert_eq!(
        pl(999_999_999)[..3],
        names(&["num/900", "num/90", "digits/9"])[..]
    );
    assert_eq!(pl(5_000_000), names(&["digits/5", "num/milionow"]));
    assert_eq!(pl(3_000_000), names(&["digits/3", "num/miliony"]));
    assert_eq!(pl(0), names(&["digits/0"]));
}

#[test]
fn polish_feminine_forms() {
    let f = |n| number(n, "pl", Gender::Feminine).expect("in range");
    assert_eq!(f(1), names(&["num/1f"]), "jedna");
    assert_eq!(f(2), names(&["num/2f"]), "dwie");
    assert_eq!(f(22), names(&["num/20", "num/2f"]), "dwadzieścia dwie");
    assert_eq!(f(21), names(&["num/20", "digits/1"]), "dwadzieścia jeden");
    assert_eq!(f(2002), names(&["digits/2", "num/tysiace", "num/2f"]));
    assert_eq!(f(12), names(&["num/12"]));
}

#[test]
fn plural_rule_table() {
    let expected = [
        (1, 0),
        (2, 1),
        (4, 1),
        (5, 2),
        (11, 2),
        (12, 2),
        (14, 2),
        (21, 2),
        (22, 1),
        (104, 1),
        (112, 2),
        (1000, 2),
    ];
    for (n, form) in expected {
        assert_eq!(pl_plural(n), form, "n = {n}");
    }
}

#[test]
fn english_numbers() {
    assert_eq!(
        en(123),
        names(&["digits/1", "num/hundred", "num/20", "digits/3"])
    );
    assert_eq!(en(15), names(&["num/15"]));
    assert_eq!(en(40), names(&["num/40"]));
    assert_eq!(en(2_000_017), names(&["digits/2", "num/million", "num/17"]));
    assert_eq!(en(1000), names(&["digits/1", "num/thousand"]));
    assert_eq!(en(-7), names(&["words/minus", "digits/7"]));
    assert!(number(1_000_000_000, "en", Gender::Masculine).is_err());
    assert!(number(5, "de", Gender::Masculine).is_err());
}

#[test]
fn english_amounts() {
    assert_eq!(
        amount(250, Currency::Usd, "en").expect("ok"),
        names(&[
            "digits/2",
            "currency/dollars",
            "words/and",
            "num/50",
            "currency/cents"
        ])
    );
    assert_eq!(
        amount(101, Currency::Eur, "en").expect("ok"),
        names(&[
            "digits/1",
            "currency/euro",
            "words/and",
            "digits/1",
            "currency/cent"
        ])
    );
    assert_eq!(
        amount(2, Currency::Eur, "pl").expect("ok"),
        names(&["digits/2", "currency/centy"])
    );
}

#[test]
fn dates_in_both_languages() {
    assert_eq!(
        date(2025, 5, 5, "pl").expect("ok"),
        names(&[
            "ord/5",
            "month/5",
            "digits/2",
            "num/tysiace",
            "ord/20",
            "ord/5",
            "words/roku"
        ])
    );
    assert_eq!(
        date(2000, 1, 31, "pl").expect("ok"),
        names(&["ord/30", "ord/1", "month/1", "ord/2000", "words/roku"])
    );
    assert_eq!(
        date(1999, 12, 24, "pl").expect("ok"),
        names(&[
            "ord/20",
            "ord/4",
            "month/12",
            "num/tysiac",
            "num/900",
            "ord/90",
            "ord/9",
            "words/roku"
        ])
    );
    assert_eq!(
        date(2025, 3, 21, "en").expect("ok"),
        names(&[
            "month/3",
            "num/20",
            "ord/1",
            "digits/2",
            "num/thousand",
            "num/20",
            "digits/5"
        ])
    );
    assert!(date(2025, 13, 1, "en").is_err());
    assert!(date(1800, 1, 1, "pl").is_err());
}

#[test]
fn digits_and_json_values() {
    assert_eq!(
        digits("+48 1*#"),
        names(&[
            "digits/plus",
            "digits/4",
            "digits/8",
            "digits/1",
            "digits/star",
            "digits/hash"
        ])
    );
    let amount_pl = SayForm::Amount(Currency::Pln);
    assert_eq!(
        value(amount_pl, &json!("2.05"), "pl").expect("ok"),
        names(&["digits/2", "currency/zlote", "digits/5", "currency/groszy"])
    );
    assert_eq!(
        value(amount_pl, &json!(12.5), "pl").expect("ok"),
        names(&["num/12", "currency/zlotych", "num/50", "currency/groszy"])
    );
    assert_eq!(
        value(SayForm::Number(Gender::Masculine), &json!("42"), "en").expect("ok"),
        names(&["num/40", "digits/2"])
    );
    assert_eq!(
        value(SayForm::Date, &json!("2025-05-05T10:00:00Z"), "en").expect("ok")[..2],
        names(&["month/5", "ord/5"])[..]
    );
    assert!(value(SayForm::Date, &json!(5), "en").is_err());
    assert!(value(amount_pl, &json!("1.234"), "pl").is_err());
}

#[test]
fn every_output_is_in_the_prompt_catalogue() {
    for lang in LANGUAGES {
        let num = prompts(SayForm::Number(Gender::Masculine), lang);
        for n in (0..2000).chain((0..200).map(|k| k * 4_999_999 + 7)) {
            for g in [Gender::Masculine, Gender::Feminine] {
                for p in number(n, lang, g).expect("in range") {
                    assert!(num.contains(&p), "{lang} {n}: {p} not listed");
                }
            }
        }
        for c in [Currency::Pln, Currency::Eur, Currency::Usd] {
            let listed = prompts(SayForm::Amount(c), lang);
            for minor in (0..1000).chain([-5, 123_456_789]) {
                for p in amount(minor, c, lang).expect("in range") {
                    assert!(listed.contains(&p), "{lang} {c:?} {minor}: {p} not listed");
                }
            }
        }
        let listed = prompts(SayForm::Date, lang);
        for year in [1901, 1999, 2000, 2001, 2013, 2025, 2099] {
            for day in 1..=31 {
                for p in date(year, 1 + day % 12, day, lang).expect("valid") {
                    assert!(listed.contains(&p), "{lang} {year}-{day}: {p} not listed");
                }
            }
        }
    }
}
