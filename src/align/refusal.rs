//! Why an operation (or a new alignment) was refused. The text of each variant is
//! what the API and CLI show; [`Refusal::kind`] names it for machines.

/// Why an operation was refused; nothing of its change set is applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// An alignment needs 1 to 6 levels.
    #[error("an alignment has 1 to 6 levels, not {count}")]
    LevelCount {
        /// Levels given.
        count: usize,
    },
    /// Level names repeat (case-insensitively) or are blank.
    #[error("level names must be distinct and non-empty: {levels:?}")]
    LevelNames {
        /// Levels given.
        levels: Vec<String>,
    },
    /// No level of that name.
    #[error("unknown level '{level}' (levels: {})", levels.join(", "))]
    UnknownLevel {
        /// Level named.
        level: String,
        /// The alignment's levels.
        levels: Vec<String>,
    },
    /// Unit ids not in the dataset (at most the first 5 shown).
    #[error("{count} unknown unit id(s): {}{}", shown.join(", "), if *count > shown.len() { ", ..." } else { "" })]
    UnknownUnits {
        /// How many ids are unknown.
        count: usize,
        /// The first of them.
        shown: Vec<String>,
    },
    /// No territory of that code at that level.
    #[error("unknown {level} '{code}'")]
    UnknownTerritory {
        /// Level name.
        level: String,
        /// Code.
        code: String,
    },
    /// The territory is locked.
    #[error("{level} '{code}' is locked")]
    Locked {
        /// Level name.
        level: String,
        /// Code.
        code: String,
    },
    /// The unit is locked.
    #[error("unit '{unit}' is locked")]
    LockedUnit {
        /// Unit id.
        unit: String,
    },
    /// The unit belongs to a locked territory.
    #[error("unit '{unit}' belongs to locked {level} '{code}'")]
    InLockedTerritory {
        /// Unit id.
        unit: String,
        /// Leaf level name.
        level: String,
        /// The locked territory.
        code: String,
    },
    /// A territory to delete or merge has a locked unit.
    #[error("unit '{unit}' of '{code}' is locked")]
    LockedMember {
        /// Unit id.
        unit: String,
        /// Its territory.
        code: String,
    },
    /// A territory code that is empty (or blank).
    #[error("territory code is empty")]
    EmptyCode,
    /// A territory of that code exists at that level.
    #[error("{level} '{code}' already exists")]
    Exists {
        /// Level name.
        level: String,
        /// Code.
        code: String,
    },
    /// A parent given for a territory of the top level.
    #[error("{level} is the top level and has no parent (got '{parent}')")]
    BadParent {
        /// Level name (the top one).
        level: String,
        /// Parent given.
        parent: String,
    },
    /// A territory merged into itself.
    #[error("cannot merge '{code}' into itself")]
    MergeIntoItself {
        /// Code.
        code: String,
    },
    /// A territory deleted with its units reassigned to itself.
    #[error("cannot reassign '{code}' to itself")]
    ReassignToItself {
        /// Code.
        code: String,
    },
    /// No rep of that id.
    #[error("unknown rep '{rep}'")]
    UnknownRep {
        /// Rep id.
        rep: String,
    },
    /// A rep id that is empty (or blank).
    #[error("rep id is empty")]
    EmptyRepId,
    /// No account of that id.
    #[error("unknown account '{account}'")]
    UnknownAccount {
        /// Account id.
        account: String,
    },
    /// An account id that is empty (or blank).
    #[error("account id is empty")]
    EmptyAccountId,
    /// A rep's or account's location that is half given, not finite or out of range.
    /// No rule of that id.
    #[error("unknown rule '{rule}' (rules: {})", if rules.is_empty() { "none".to_owned() } else { rules.join(", ") })]
    UnknownRule {
        /// Rule id.
        rule: String,
        /// Some of the alignment's rules.
        rules: Vec<String>,
    },
    /// A rule of that id exists already.
    #[error("rule '{rule}' exists already (change it with update_rule)")]
    RuleExists {
        /// Rule id.
        rule: String,
    },
    /// A rule that cannot be saved: its id, or its condition (the field at fault named).
    #[error("rule '{rule}': {reason}")]
    BadRule {
        /// Rule id.
        rule: String,
        /// The field at fault.
        field: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A territory deleted without `reassign_to` while rules give it accounts.
    #[error("territory {code} is the territory of rule(s) {}: give it a reassign_to, or change or delete them first", rules.join(", "))]
    TerritoryHasRules {
        /// Territory code.
        code: String,
        /// Its rules.
        rules: Vec<String>,
    },
    #[error("{what}: location ({lon:?}, {lat:?}) is not a lon/lat pair within range")]
    BadLocation {
        /// Whose location (`rep 'R1'`, `account 'A7'`).
        what: String,
        /// Longitude given.
        lon: Option<f64>,
        /// Latitude given.
        lat: Option<f64>,
    },
}

impl Refusal {
    /// The kind of refusal in snake case (`unknown_territory`), for the `refusal`
    /// field of the HTTP problem document.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::LevelCount { .. } => "level_count",
            Refusal::LevelNames { .. } => "level_names",
            Refusal::UnknownLevel { .. } => "unknown_level",
            Refusal::UnknownUnits { .. } => "unknown_units",
            Refusal::UnknownTerritory { .. } => "unknown_territory",
            Refusal::Locked { .. } => "locked",
            Refusal::LockedUnit { .. } => "locked_unit",
            Refusal::InLockedTerritory { .. } => "in_locked_territory",
            Refusal::LockedMember { .. } => "locked_member",
            Refusal::EmptyCode => "empty_code",
            Refusal::Exists { .. } => "exists",
            Refusal::BadParent { .. } => "bad_parent",
            Refusal::MergeIntoItself { .. } => "merge_into_itself",
            Refusal::ReassignToItself { .. } => "reassign_to_itself",
            Refusal::UnknownRep { .. } => "unknown_rep",
            Refusal::EmptyRepId => "empty_rep_id",
            Refusal::UnknownAccount { .. } => "unknown_account",
            Refusal::EmptyAccountId => "empty_account_id",
            Refusal::BadLocation { .. } => "bad_location",
            Refusal::UnknownRule { .. } => "unknown_rule",
            Refusal::RuleExists { .. } => "rule_exists",
            Refusal::BadRule { .. } => "bad_rule",
            Refusal::TerritoryHasRules { .. } => "territory_has_rules",
        }
    }
}

/// A refusal equals the message it shows.
impl PartialEq<str> for Refusal {
    fn eq(&self, message: &str) -> bool {
        let shown = self.to_string();
        shown == message
    }
}

/// As held by `AlignError::Rejected` (boxed: a refusal is larger than the other errors).
impl PartialEq<str> for Box<Refusal> {
    fn eq(&self, message: &str) -> bool {
        **self == *message
    }
}
