//! Nova's generated admin passwords (`utils.generate_password`): 12 characters drawn from
//! digits, upper and lower case letters, at least one of each.

use rand::seq::SliceRandom;
use rand::Rng;

const GROUPS: &[&[u8]] = &[b"23456789", b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz"];
const LENGTH: usize = 12;

pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    let all: Vec<u8> = GROUPS.concat();
    let mut chars: Vec<u8> = GROUPS.iter().map(|g| g[rng.gen_range(0..g.len())]).collect();
    while chars.len() < LENGTH {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    chars.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_mix_every_group() {
        let p = super::generate();
        assert_eq!(p.len(), 12);
        assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_lowercase()));
    }
}
