//! Which members a fleetdeck starts with: the seeds' demo fleet, or the ones named on the
//! command line.

use std::collections::BTreeMap;

/// One member cluster to simulate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// The seeds' fleet (seed 000, "member clusters"): two canaries ordered by `order`, one staging.
pub fn demo_fleet() -> Vec<MemberConfig> {
    [
        ("member1", "environment=canary,order=2"),
        ("member2", "environment=staging"),
        ("member3", "environment=canary,order=1"),
    ]
    .into_iter()
    .map(|(name, labels)| {
        parse(&format!("{name}:{labels}")).expect("the demo fleet is well formed")
    })
    .collect()
}

/// Parses `NAME[:key=value,key=value…]`, the `--member` flag's syntax.
pub fn parse(text: &str) -> Result<MemberConfig, String> {
    let (name, labels) = text.split_once(':').unwrap_or((text, ""));
    let name = name.trim();
    if !is_dns_label(name) {
        return Err(format!(
            "member name {name:?} must be a DNS label: lowercase letters, digits and '-', at most 63 characters"
        ));
    }
    let mut map = BTreeMap::new();
    for pair in labels.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("label {pair:?} of member {name} must be key=value"))?;
        map.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(MemberConfig {
        name: name.to_string(),
        labels: map,
    })
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fleet_is_the_seeds_fleet() {
        let fleet = demo_fleet();
        let names: Vec<_> = fleet.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["member1", "member2", "member3"]);
        assert_eq!(fleet[0].labels["environment"], "canary");
        assert_eq!(fleet[0].labels["order"], "2");
        assert_eq!(fleet[1].labels.len(), 1);
        assert_eq!(fleet[2].labels["order"], "1");
    }

    #[test]
    fn member_flags_parse_and_bad_ones_say_why() {
        let m = parse("eu-1:region=westeurope, tier = gold").expect("parses");
        assert_eq!(m.name, "eu-1");
        assert_eq!(m.labels["tier"], "gold");
        assert_eq!(parse("solo").expect("parses").labels.len(), 0);
        assert!(parse("Member1").unwrap_err().contains("DNS label"));
        assert!(parse("m:env").unwrap_err().contains("key=value"));
    }
}
