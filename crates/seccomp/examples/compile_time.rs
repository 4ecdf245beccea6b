//! Filter compile time, cold and from the cache, for the built-in default profile and
//! Docker's: what `bench/run.sh` prints as its third table. One line per profile:
//! `NAME cold_ms cached_us instructions`.

use std::time::Instant;
use syscage_policy::caps::CapSet;
use syscage_policy::profile::ReadOptions;
use syscage_seccomp::cache::Cache;
use syscage_seccomp::filter::{self, NotifyMode, Request};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(15);
    let docker = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "profiles/docker-default.json".into());
    let dir = std::env::temp_dir().join(format!("syscage-bench-cache-{}", std::process::id()));
    let cache = Cache::open(&dir).expect("a private cache directory");
    for (name, profile) in [("default", "default".to_string()), ("docker", docker)] {
        let req = Request {
            profile,
            bases: vec![],
            read: ReadOptions::default(),
            caps: CapSet::docker_default(),
            kernel: None,
            extra_arches: vec![],
            tweaks: vec![],
            notify: NotifyMode::Plain,
        };
        let mut cold = Vec::new();
        let mut len = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let b = filter::build(&req, None, false).expect("compiles");
            cold.push(t.elapsed().as_secs_f64() * 1e3);
            len = b.program.map(|p| p.len()).unwrap_or(0);
        }
        filter::build(&req, Some(&cache), false).expect("fills the cache");
        let mut warm = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let b = filter::build(&req, Some(&cache), false).expect("from the cache");
            assert!(b.cached);
            warm.push(t.elapsed().as_secs_f64() * 1e6);
        }
        println!("{name} {:.2} {:.1} {len}", median(cold), median(warm));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
