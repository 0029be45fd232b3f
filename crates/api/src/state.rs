//! What every request shares: the store, the bus, the token keys, the
//! school's clock and the configuration.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use scrm_domain::school_time::{SchoolClock, truncate_to_micros};
use scrm_persistence::Store;

use crate::auth::TokenKeys;
use crate::bus::Bus;
use crate::config::Config;
use crate::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub keys: TokenKeys,
    pub config: Config,
    pub clock: SchoolClock,
    pub limiter: RateLimiter,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, bus: Arc<dyn Bus>, keys: TokenKeys, config: Config) -> AppState {
        let clock = SchoolClock::new(config.school_timezone);
        let limiter = RateLimiter::new(config.limits.sign_in_attempts_per_minute);
        AppState(Arc::new(Inner {
            store,
            bus,
            keys,
            config,
            clock,
            limiter,
        }))
    }

    /// The current instant at the precision both stores keep.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(Utc::now())
    }

    /// The academic year the school is in today.
    pub fn academic_year(&self) -> String {
        self.clock.academic_year(self.clock.date_of(self.now()))
    }
}
