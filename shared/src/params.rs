//! Parameters: what a viewer may tune in each pattern, declared once.
//!
//! Each pattern's parameters are a struct declared with [`param_set!`]:
//! every field carries its [`Spec`] (label, unit, range, default, whether a
//! change applies live). The server validates a viewer's change against the
//! specs and its engines read the fields; the browser builds its controls
//! from the same specs and reads the same fields to draw. A name is written
//! once, as a field, so a typo does not compile.

use crate::pattern::PatternId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Parameter values by name, as they cross the network. Checked against the
/// pattern's specs (see [`PatternId::check`]) before an engine sees them.
pub type Params = BTreeMap<String, f64>;

/// One tunable parameter, as viewers receive it. `default` is the seed's preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    pub label: String,
    pub unit: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// Whether the value must be a whole number.
    pub integer: bool,
    /// Whether a change applies to the running engine at once; otherwise the
    /// run restarts with the new value.
    pub live: bool,
    /// For a parameter that picks one of a few options (a switch, a kind):
    /// their names. The value is an option's index, from `min` 0 to `max`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A parameter's declaration; its name is the field that carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub label: &'static str,
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub integer: bool,
    pub live: bool,
    pub choices: &'static [&'static str],
}

/// The options of an on/off switch.
const SWITCH: &[&str] = &["off", "on"];

impl Spec {
    /// A whole number of `unit` from `min` to `max`; a change restarts the run.
    pub const fn whole(
        label: &'static str,
        unit: &'static str,
        min: f64,
        max: f64,
        default: f64,
    ) -> Spec {
        Spec {
            label,
            unit,
            min,
            max,
            default,
            integer: true,
            live: false,
            choices: &[],
        }
    }

    /// A whole number of milliseconds.
    pub const fn ms(label: &'static str, min: f64, max: f64, default: f64) -> Spec {
        Spec::whole(label, "ms", min, max, default)
    }

    /// Any number from `min` to `max`, fractions included.
    pub const fn real(
        label: &'static str,
        unit: &'static str,
        min: f64,
        max: f64,
        default: f64,
    ) -> Spec {
        Spec {
            integer: false,
            ..Spec::whole(label, unit, min, max, default)
        }
    }

    /// One of `choices`; the value is the chosen one's index.
    pub const fn choice(
        label: &'static str,
        choices: &'static [&'static str],
        default: usize,
    ) -> Spec {
        Spec {
            choices,
            ..Spec::whole(label, "", 0.0, (choices.len() - 1) as f64, default as f64)
        }
    }

    /// An on/off switch.
    pub const fn switch(label: &'static str, on: bool) -> Spec {
        Spec::choice(label, SWITCH, on as usize)
    }

    /// The same parameter, applied to the running engine when it changes.
    pub const fn live(self) -> Spec {
        Spec { live: true, ..self }
    }

    /// The same parameter with another preset, for a pattern whose seed
    /// starts elsewhere.
    pub const fn preset(self, default: f64) -> Spec {
        Spec { default, ..self }
    }

    /// The spec as viewers receive it, under `name`.
    pub fn named(&self, name: &str) -> ParamSpec {
        ParamSpec {
            name: name.to_owned(),
            label: self.label.to_owned(),
            unit: self.unit.to_owned(),
            min: self.min,
            max: self.max,
            default: self.default,
            integer: self.integer,
            live: self.live,
            choices: self.choices.iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}

/// Why a viewer's parameter change was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("set_params needs at least one parameter")]
    Empty,
    #[error("pattern `{pattern}` has no parameter `{name}`; it has: {known}")]
    Unknown {
        pattern: PatternId,
        name: String,
        known: String,
    },
    #[error("`{name}` must be between {min} and {max}, got {value}")]
    OutOfRange {
        name: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("`{name}` must be a whole number, got {value}")]
    NotWhole { name: String, value: f64 },
    #[error("`{name}` must be one of {options}, got {value}")]
    NotAChoice {
        name: String,
        value: f64,
        /// The options with their values: "0 (off), 1 (on)".
        options: String,
    },
}

impl ParamSpec {
    /// Checks one value against the spec.
    pub fn check(&self, value: f64) -> Result<(), ParamError> {
        let chosen = value.fract() == 0.0 && value >= 0.0 && (value as usize) < self.choices.len();
        if !self.choices.is_empty() && !chosen {
            let options = self
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{i} ({c})"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ParamError::NotAChoice {
                name: self.name.clone(),
                value,
                options,
            });
        }
        if !value.is_finite() || value < self.min || value > self.max {
            return Err(ParamError::OutOfRange {
                name: self.name.clone(),
                value,
                min: self.min,
                max: self.max,
            });
        }
        if self.integer && value.fract() != 0.0 {
            return Err(ParamError::NotWhole {
                name: self.name.clone(),
                value,
            });
        }
        Ok(())
    }
}

/// A parameter's value as an engine or a view uses it. Values arrive checked
/// against their spec, so a conversion only has to pick the type.
pub trait Value: Sized {
    fn from_value(value: f64) -> Self;
}

impl Value for f64 {
    fn from_value(value: f64) -> f64 {
        value
    }
}

/// Counts and whole milliseconds (the casts saturate; specs keep them in range).
macro_rules! whole_values {
    ($($ty:ty),+) => {
        $(impl Value for $ty {
            fn from_value(value: f64) -> $ty {
                value.max(0.0) as $ty
            }
        })+
    };
}

whole_values!(u8, u32, u64, usize);

/// A switch: on is 1.
impl Value for bool {
    fn from_value(value: f64) -> bool {
        value >= 1.0
    }
}

/// A duration given in whole milliseconds.
impl Value for Duration {
    fn from_value(value: f64) -> Duration {
        Duration::from_millis(value.max(0.0) as u64)
    }
}

/// How a field of a [`param_set!`] is declared: a [`Spec`] for one value,
/// [`Group`] for a set of parameters several patterns share whole.
pub trait Decl<T> {
    fn add_specs(&self, name: &str, specs: &mut Vec<ParamSpec>);
    fn read(&self, name: &str, params: &Params) -> T;
}

impl<T: Value> Decl<T> for Spec {
    fn add_specs(&self, name: &str, specs: &mut Vec<ParamSpec>) {
        specs.push(self.named(name));
    }

    fn read(&self, name: &str, params: &Params) -> T {
        T::from_value(params.get(name).copied().unwrap_or(self.default))
    }
}

/// A field that is itself a [`ParamSet`]: its parameters join the pattern's
/// under their own names, and machinery every pattern that has them shares
/// (a breaker, a retry policy) reads them as one struct.
#[derive(Debug, Clone, Copy)]
pub struct Group;

impl<T: ParamSet> Decl<T> for Group {
    fn add_specs(&self, _name: &str, specs: &mut Vec<ParamSpec>) {
        specs.extend(T::specs());
    }

    fn read(&self, _name: &str, params: &Params) -> T {
        T::read(params)
    }
}

/// A pattern's parameters as one struct; see [`param_set!`].
pub trait ParamSet: Sized {
    /// Every parameter, in the order the controls list them.
    fn specs() -> Vec<ParamSpec>;

    /// The values in `params`, each missing one at its preset.
    fn read(params: &Params) -> Self;

    /// Every parameter at its preset: the seed's scenario.
    fn preset() -> Params {
        Self::specs()
            .into_iter()
            .map(|s| (s.name, s.default))
            .collect()
    }

    /// The values of the seed's scenario.
    fn at_preset() -> Self {
        Self::read(&Params::new())
    }
}

/// Declares a pattern's parameters: a struct whose fields are the values,
/// each with the [`Spec`] that describes it, or a [`Group`] of them.
///
/// ```
/// shared::param_set! {
///     /// A producer and its pace.
///     pub struct Example {
///         tasks: u32 = shared::params::Spec::whole("Tasks", "tasks", 1.0, 50.0, 10.0),
///         interval_ms: std::time::Duration =
///             shared::params::Spec::ms("One new task every", 1.0, 2_000.0, 30.0).live(),
///     }
/// }
/// use shared::params::ParamSet;
/// assert_eq!(Example::read(&Example::preset()).tasks, 10);
/// ```
#[macro_export]
macro_rules! param_set {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$field_meta:meta])* $field:ident : $ty:ty = $spec:expr),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        $vis struct $name {
            $($(#[$field_meta])* pub $field: $ty,)+
        }

        impl $crate::params::ParamSet for $name {
            fn specs() -> Vec<$crate::params::ParamSpec> {
                let mut specs = Vec::new();
                $($crate::params::Decl::<$ty>::add_specs(&$spec, stringify!($field), &mut specs);)+
                specs
            }

            fn read(params: &$crate::params::Params) -> $name {
                $name {
                    $($field: $crate::params::Decl::<$ty>::read(&$spec, stringify!($field), params),)+
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    param_set! {
        struct Sample {
            count: u32 = Spec::whole("Count", "items", 1.0, 10.0, 3.0),
            wait_ms: Duration = Spec::ms("Wait", 1.0, 1_000.0, 250.0).live(),
            on: bool = Spec::switch("Switch", true),
            factor: f64 = Spec::real("Factor", "×", 1.0, 4.0, 2.5),
        }
    }

    #[test]
    fn a_set_reads_its_fields_by_name_and_falls_back_to_presets() {
        let preset = Sample::preset();
        assert_eq!(preset.len(), 4);
        let read = Sample::read(&preset);
        assert_eq!(
            read,
            Sample {
                count: 3,
                wait_ms: Duration::from_millis(250),
                on: true,
                factor: 2.5,
            }
        );
        let changed = Params::from([("count".to_owned(), 7.0)]);
        assert_eq!(Sample::read(&changed).count, 7);
        assert_eq!(Sample::read(&changed).factor, 2.5, "missing: its preset");
    }

    #[test]
    fn specs_keep_the_declared_order_names_and_kinds() {
        let specs = Sample::specs();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["count", "wait_ms", "on", "factor"]);
        assert!(specs[1].live && !specs[0].live);
        assert_eq!(specs[2].choices, ["off", "on"]);
        assert!(!specs[3].integer);
    }

    #[test]
    fn a_value_is_checked_against_its_spec() {
        let specs = Sample::specs();
        assert!(specs[0].check(4.0).is_ok());
        assert!(matches!(
            specs[0].check(11.0),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(matches!(
            specs[0].check(2.5),
            Err(ParamError::NotWhole { .. })
        ));
        assert!(matches!(
            specs[0].check(f64::NAN),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(matches!(
            specs[2].check(2.0),
            Err(ParamError::NotAChoice { .. })
        ));
        assert!(specs[3].check(1.5).is_ok());
    }
}
