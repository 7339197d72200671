//! `poll_oneoff`: waits until a clock subscription's time comes or a
//! subscribed fd is ready to read or write. Host files are polled with
//! `poll(2)`; in-memory streams are always ready; a subscription naming a
//! bad fd or clock is an event carrying that error at once.
//!
//! This must not wait past the earliest clock subscription, nor at all
//! when some event is ready.

use super::{Status, WasiState};
use crate::wasi::abi::{
    Errno, Event, Subscription, Wait, EVENT_HANGUP, EVENT_SIZE, SUBSCRIPTION_SIZE,
};
use crate::wasi::fd::{Dir, Entry};
use crate::wasi::memory::{element, GuestMemory};
use crate::wasi::sys::{self, Clock};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How one subscription can become an event.
enum Pending {
    /// It is ready now, with this many bytes available, or failed.
    Now(Result<u64, Errno>),
    /// At this instant (never if it is beyond what `Instant` holds).
    Clock(Option<Instant>),
    /// When `poll` reports the `pollfd` with this index ready.
    Host(usize),
}

/// The instant a clock subscription comes due, from `start`.
fn deadline(
    id: u32,
    timeout: u64,
    absolute: bool,
    start: Instant,
) -> Result<Option<Instant>, Errno> {
    let clock = Clock::from_wasi(id).ok_or(Errno::Inval)?;
    let delay = if absolute {
        timeout.saturating_sub(clock.now()?)
    } else {
        timeout
    };
    Ok(start.checked_add(Duration::from_nanos(delay)))
}

/// How `subscription` can become an event; a host fd is added to
/// `pollfds`.
fn pending(
    state: &WasiState,
    subscription: &Subscription,
    start: Instant,
    pollfds: &mut Vec<libc::pollfd>,
) -> Pending {
    let (fd, events) = match subscription.wait {
        Wait::Clock {
            id,
            timeout,
            absolute,
        } => {
            return deadline(id, timeout, absolute, start)
                .map_or_else(|e| Pending::Now(Err(e)), Pending::Clock)
        }
        Wait::Read(fd) => (fd, libc::POLLIN),
        Wait::Write(fd) => (fd, libc::POLLOUT),
    };
    match state.fds.get(fd) {
        Err(e) => Pending::Now(Err(e)),
        Ok(Entry::Input { data, pos }) => Pending::Now(Ok(data.len().saturating_sub(*pos) as u64)),
        Ok(Entry::Output(_)) => Pending::Now(Ok(0)),
        Ok(Entry::File(file) | Entry::Dir(Dir { file, .. })) => {
            pollfds.push(libc::pollfd {
                fd: file.as_raw_fd(),
                events,
                revents: 0,
            });
            Pending::Host(pollfds.len() - 1)
        }
    }
}

/// The `poll` timeout for waiting `wait` (`None`: no limit), rounded up
/// to milliseconds.
fn timeout_ms(wait: Option<Duration>) -> libc::c_int {
    wait.map_or(-1, |wait| {
        libc::c_int::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(libc::c_int::MAX)
    })
}

/// The event of `subscription` if it is due at `now` (host fds as `poll`
/// left `pollfds`).
fn event(
    subscription: &Subscription,
    pending: &Pending,
    pollfds: &[libc::pollfd],
    now: Instant,
) -> Option<Event> {
    let (error, nbytes, flags) = match pending {
        Pending::Now(Ok(nbytes)) => (0, *nbytes, 0),
        Pending::Now(Err(e)) => (e.code(), 0, 0),
        Pending::Clock(deadline) => {
            if !deadline.is_some_and(|d| d <= now) {
                return None;
            }
            (0, 0, 0)
        }
        Pending::Host(index) => {
            let revents = pollfds.get(*index)?.revents;
            if revents == 0 {
                return None;
            }
            if revents & libc::POLLNVAL != 0 {
                (Errno::Badf.code(), 0, 0)
            } else if revents & libc::POLLHUP != 0 {
                (0, 0, EVENT_HANGUP)
            } else {
                (0, 0, 0)
            }
        }
    };
    Some(Event {
        userdata: subscription.userdata,
        error,
        eventtype: subscription.eventtype(),
        nbytes,
        flags,
    })
}

/// `poll_oneoff`.
pub(crate) fn poll_oneoff(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    subscriptions: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> Status {
    if nsubscriptions == 0 {
        return Err(Errno::Inval);
    }
    memory.check(nevents, 4)?;
    let events_len = (nsubscriptions as usize)
        .checked_mul(EVENT_SIZE as usize)
        .ok_or(Errno::Fault)?;
    memory.check(events, events_len)?;
    let subscriptions = (0..nsubscriptions)
        .map(|i| {
            let at = element(subscriptions, i, SUBSCRIPTION_SIZE)?;
            Subscription::decode(&memory.array(at)?)
        })
        .collect::<Result<Vec<Subscription>, Errno>>()?;
    let start = Instant::now();
    let mut pollfds = Vec::new();
    let pendings: Vec<Pending> = subscriptions
        .iter()
        .map(|s| pending(state, s, start, &mut pollfds))
        .collect();
    let fired = loop {
        let now = Instant::now();
        let wait = if pendings.iter().any(|p| matches!(p, Pending::Now(_))) {
            Some(Duration::ZERO)
        } else {
            pendings
                .iter()
                .filter_map(|p| match p {
                    Pending::Clock(Some(d)) => Some(d.saturating_duration_since(now)),
                    _ => None,
                })
                .min()
        };
        if pollfds.is_empty() {
            std::thread::sleep(wait.unwrap_or(Duration::MAX));
        } else {
            sys::poll(&mut pollfds, timeout_ms(wait))?;
        }
        let now = Instant::now();
        let fired: Vec<Event> = subscriptions
            .iter()
            .zip(&pendings)
            .filter_map(|(s, p)| event(s, p, &pollfds, now))
            .collect();
        if !fired.is_empty() {
            break fired;
        }
    };
    for (index, event) in (0u32..).zip(&fired) {
        memory.write(element(events, index, EVENT_SIZE)?, &event.encode())?;
    }
    memory.write_size(nevents, fired.len())
}
