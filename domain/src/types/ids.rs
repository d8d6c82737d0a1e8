//! Typed ids, so a tenant id can never be passed where a project id is meant.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($($name:ident),+) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "server", derive(sqlx::Type))]
        #[cfg_attr(feature = "server", sqlx(transparent))]
        pub struct $name(pub Uuid);

        impl $name {
            #[cfg(feature = "server")]
            pub fn new_random() -> Self {
                $name(Uuid::new_v4())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = super::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name).map_err(|_| super::ParseError::new("id", "is not a valid id"))
            }
        }
    )+};
}

typed_id!(UserId, TenantId, ProjectId, EnvironmentId, TokenId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uuids_only() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
        let id: ProjectId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        assert_eq!(id.to_string(), "67e55044-10b1-426f-9247-bb680e5fe0c8");
    }
}
