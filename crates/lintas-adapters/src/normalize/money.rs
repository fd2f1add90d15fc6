//! `money`: integer minor units in the contract's exponent, uppercase ISO 4217 currency.
//!
//! The contract's minor unit is ISO 4217's, except IDR, which the contract counts in whole rupiah
//! (rupiah have no coins in use). Platforms differ (Stripe counts IDR in hundredths), so adapters
//! say which exponent their amounts use and [`from_minor`] rescales. No floating point touches
//! an amount: decimal strings are parsed digit by digit ([`from_decimal_str`]).

use lintas_schema::v1::Money;

/// Digits after the decimal point of the contract's minor unit for `currency`, an uppercase code
/// accepted by [`currency_code`]: ISO 4217's minor unit (from `iso_currency`), except IDR.
pub fn contract_exponent(currency: &str) -> u32 {
    if currency == "IDR" {
        // The contract's deliberate exception to ISO 4217 (see the `Money` message).
        return 0;
    }
    iso_currency::Currency::from_code(currency)
        .and_then(|code| code.exponent())
        .map_or(2, u32::from)
}

/// The uppercase ISO 4217 code of `raw` (any case, surrounding spaces allowed), `None` unless it
/// is a currency ISO 4217 lists with a minor unit. Codes without one (gold `XAU`, the SDR `XDR`,
/// the testing code `XTS`, "no currency" `XXX`) are not money a customer pays.
pub fn currency_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    iso_currency::Currency::from_code(&code)
        .filter(|currency| currency.exponent().is_some())
        .map(|_| code)
}

/// `amount` given with `source_exponent` fraction digits, as contract money. Scaling down
/// rounds half away from zero. `None` for an invalid currency or an overflow.
pub fn from_minor(amount: i64, source_exponent: u32, currency: &str) -> Option<Money> {
    let currency = currency_code(currency)?;
    let target = contract_exponent(&currency);
    let amount_minor = rescale(i128::from(amount), source_exponent, target)?;
    Some(Money {
        amount_minor: i64::try_from(amount_minor).ok()?,
        currency,
    })
}

/// A decimal string in major units (`"1275000.00"`, `"-89.5"`) as contract money.
pub fn from_decimal_str(amount: &str, currency: &str) -> Option<Money> {
    let amount = amount.trim();
    let (negative, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if integer.is_empty() || !all_digits(integer) || !all_digits(fraction) || fraction.len() > 18 {
        return None;
    }
    let digits: i128 = format!("{integer}{fraction}").parse().ok()?;
    let signed = if negative { -digits } else { digits };
    let exponent = u32::try_from(fraction.len()).ok()?;
    let currency = currency_code(currency)?;
    let amount_minor = rescale(signed, exponent, contract_exponent(&currency))?;
    Some(Money {
        amount_minor: i64::try_from(amount_minor).ok()?,
        currency,
    })
}

fn rescale(amount: i128, from: u32, to: u32) -> Option<i128> {
    if from == to {
        return Some(amount);
    }
    if to > from {
        return amount.checked_mul(10_i128.checked_pow(to - from)?);
    }
    let divisor = 10_i128.checked_pow(from - to)?;
    let quotient = amount / divisor;
    let remainder = amount % divisor;
    // Half away from zero: the convention of receipts and invoices.
    let rounded = if remainder.abs() * 2 >= divisor {
        quotient + amount.signum()
    } else {
        quotient
    };
    Some(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount_minor: i64, currency: &str) -> Option<Money> {
        Some(Money {
            amount_minor,
            currency: currency.to_owned(),
        })
    }

    #[test]
    fn cents_stay_cents_and_currency_is_uppercased() {
        assert_eq!(from_minor(8900, 2, "usd"), money(8900, "USD"));
        assert_eq!(from_minor(-8900, 2, "USD"), money(-8900, "USD"));
    }

    #[test]
    fn idr_is_counted_in_whole_rupiah() {
        assert_eq!(from_minor(127_500_000, 2, "idr"), money(1_275_000, "IDR"));
        assert_eq!(
            from_decimal_str("1275000.00", "IDR"),
            money(1_275_000, "IDR")
        );
    }

    #[test]
    fn decimal_strings_are_exact_and_round_half_away_from_zero() {
        assert_eq!(from_decimal_str("129.00", "USD"), money(12_900, "USD"));
        assert_eq!(from_decimal_str("0.1", "USD"), money(10, "USD"));
        assert_eq!(from_decimal_str("1.005", "USD"), money(101, "USD"));
        assert_eq!(from_decimal_str("-1.005", "USD"), money(-101, "USD"));
        assert_eq!(from_decimal_str("500", "JPY"), money(500, "JPY"));
        assert_eq!(from_decimal_str("1.5", "KWD"), money(1_500, "KWD"));
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(from_decimal_str("1,00", "USD"), None);
        assert_eq!(from_decimal_str("", "USD"), None);
        assert_eq!(from_decimal_str("1e3", "USD"), None);
        assert_eq!(from_minor(1, 2, "US"), None);
        assert_eq!(from_minor(1, 2, "U$D"), None);
        assert_eq!(from_minor(i64::MAX, 0, "USD"), None);
    }

    #[test]
    fn only_iso_4217_currencies_are_money() {
        for code in ["USD", "idr", " eur ", "JPY", "KWD", "CLF", "XOF"] {
            assert!(currency_code(code).is_some(), "{code:?}");
        }
        // Three letters are not enough: not in ISO 4217, or without a minor unit.
        for code in ["ABC", "XYZ", "RPH", "USDT", "XAU", "XXX", "XTS", ""] {
            assert_eq!(currency_code(code), None, "{code:?}");
        }
        assert_eq!(from_decimal_str("10.00", "ABC"), None);
        assert_eq!(from_minor(1000, 2, "QQQ"), None);
    }

    #[test]
    fn minor_units_follow_iso_4217_except_idr() {
        let exponents = [("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4), ("IDR", 0)];
        for (code, exponent) in exponents {
            assert_eq!(contract_exponent(code), exponent, "{code}");
        }
    }
}
