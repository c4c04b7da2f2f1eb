//! [`Timing`] from a configuration file: the session timeout and the knobs
//! a worker's builder sets, through [`Timing::for_session`] and
//! [`Timing::validate`].

use serde::Deserialize;

use super::DurationText;
use crate::error::{Error, Result};
use crate::runtime::timing::Timing;

/// What a configuration file says of a [`Timing`]: the fields a user sets.
/// The heartbeat, the safety margin and the debounce follow from the
/// session timeout as in [`Timing::for_session`]; the store's renewal
/// period is the worker's to set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTiming {
    session_timeout: DurationText,
    stop_timeout: Option<DurationText>,
    suspend_grace: Option<DurationText>,
    handoff_timeout: Option<DurationText>,
    leader_resync: Option<DurationText>,
}

impl TryFrom<RawTiming> for Timing {
    type Error = Error;

    fn try_from(raw: RawTiming) -> Result<Timing> {
        let session = raw.session_timeout.parse("session_timeout")?;
        if session.is_zero() {
            return Err(Error::InvalidInput(
                "`session_timeout` must be positive".into(),
            ));
        }
        let mut timing = Timing::for_session(session);
        for (field, text, knob) in [
            ("stop_timeout", &raw.stop_timeout, &mut timing.stop_timeout),
            (
                "suspend_grace",
                &raw.suspend_grace,
                &mut timing.suspend_grace,
            ),
            (
                "handoff_timeout",
                &raw.handoff_timeout,
                &mut timing.handoff_timeout,
            ),
            (
                "leader_resync",
                &raw.leader_resync,
                &mut timing.leader_resync,
            ),
        ] {
            if let Some(value) = DurationText::parse_opt(text.as_ref(), field)? {
                *knob = value;
            }
        }
        if timing.leader_resync.is_zero() {
            return Err(Error::InvalidInput(
                "`leader_resync` must be positive".into(),
            ));
        }
        timing.validate().map_err(|e| match e {
            Error::InvalidInput(why) => Error::InvalidInput(format!(
                "`session_timeout`, `stop_timeout` and `suspend_grace` do not fit together: {why}"
            )),
            other => other,
        })?;
        Ok(timing)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn from_toml(doc: &str) -> std::result::Result<Timing, String> {
        toml::from_str(doc).map_err(|e| e.to_string())
    }

    #[test]
    fn a_document_gives_what_for_session_and_the_knobs_give() {
        let timing = from_toml(
            r#"
            session_timeout = "10s"
            stop_timeout = "1s500ms"
            suspend_grace = "2s"
            handoff_timeout = "1m"
            leader_resync = "1m30s"
            "#,
        )
        .unwrap();
        let mut expected = Timing::for_session(Duration::from_secs(10));
        expected.stop_timeout = Duration::from_millis(1500);
        expected.suspend_grace = Duration::from_secs(2);
        expected.handoff_timeout = Duration::from_secs(60);
        expected.leader_resync = Duration::from_secs(90);
        assert_eq!(timing, expected);
        let defaults: Timing = serde_json::from_str(r#"{"session_timeout": "4s"}"#).unwrap();
        assert_eq!(defaults, Timing::for_session(Duration::from_secs(4)));
    }

    #[test]
    fn unknown_fields_bad_durations_and_unfit_knobs_are_refused_naming_the_field() {
        for (doc, named) in [
            ("session_timeout = \"4s\"\nheartbeat = \"1s\"", "heartbeat"),
            (
                "session_timeout = \"4s\"\nstop_timout = \"1s\"",
                "stop_timout",
            ),
            ("session_timeout = \"4 parsecs\"", "session_timeout"),
            (
                "session_timeout = \"4s\"\nstop_timeout = \"1x\"",
                "stop_timeout",
            ),
            ("session_timeout = \"0s\"", "session_timeout"),
            (
                "session_timeout = \"4s\"\nleader_resync = \"0s\"",
                "leader_resync",
            ),
            (
                "session_timeout = \"4s\"\nsuspend_grace = \"4s\"",
                "suspend_grace",
            ),
            ("stop_timeout = \"1s\"", "session_timeout"),
        ] {
            let err = from_toml(doc).unwrap_err();
            assert!(err.contains(&format!("`{named}")), "{doc:?}: {err}");
        }
        // The rule broken is named with the values.
        let err = from_toml("session_timeout = \"4s\"\nstop_timeout = \"3s\"").unwrap_err();
        assert!(
            err.contains("stop timeout (3s)") && err.contains("must be below the session timeout"),
            "{err}"
        );
    }
}
