//! Signed webhooks that are never lost.
//!
//! A stream batch is handled record by record: derive the events, store
//! them, record one delivery per interested endpoint, and only then try to
//! send. A record whose events or deliveries could not be stored is reported
//! as a batch item failure (Lambda retries from it; every write is
//! idempotent). Sending never fails a record: a failed attempt stays pending
//! with its next attempt time, and the scheduled run ([`Dispatcher::run_due`])
//! retries it on the backoff schedule in [`verify_core::webhooks::delivery`]. The first attempts of
//! a batch get a short time budget; whatever has not answered by then is left
//! to the schedule, so one dead endpoint never stalls the stream.
//!
//! Counters ([`crate::counters`]): every event a batch stored for the first
//! time is added to the report counters once the batch's records are
//! handled, one UpdateItem per counter item touched. The event's
//! conditional put is the gate, so a replayed record (its events already
//! stored) adds nothing. If a counter item's update fails, the events it
//! carried are marked uncounted, with the part that failed (hour or day
//! roll-up), and the earliest of their records is handed back: the retry
//! stores them afresh and adds that part only, while the batch's other
//! records, already counted, find their events stored and add nothing. What
//! is not covered: the process dying between storing an event and adding
//! its counters (a Lambda killed mid-batch); the counters then miss that
//! event, they never count one twice.
//!
//! Endpoints: the configured ones (`VERIFY_WEBHOOKS`) and the enabled
//! webhooks created over the API, signed with the deployment's secrets for
//! those ([`verify_core::service_webhooks`]). Both, and the services events
//! are derived by, come from one snapshot of the services document per
//! batch or scheduled run, read through the cached [`Catalog`] (at most one
//! read per cache period, none per batch within it).
//!
//! Order: a batch's records are handled in stream order, and stop at the
//! first that cannot be stored (Lambda hands the batch back from there). The
//! first attempts to one endpoint of one verification's events are made one
//! after another in that order; different endpoints and verifications are
//! tried at once. A failed attempt is retried later, so after a failure a
//! receiver can see later events first: every event carries `sequence`.

use super::client::WebhookClient;
use super::store::DeliveryStore;
use crate::counters::{CounterStore, Parts};
use crate::events::store::EventStore;
use crate::events::stream::{StreamRecord, parse_record};
use crate::store::DynamoStore;
use std::collections::HashMap;
use std::sync::Arc;
use verify_core::clock::{Clock, Seconds};
use verify_core::config::Services;
use verify_core::events::Event;
use verify_core::events::derive::Deriver;
use verify_core::service_catalog::Catalog;
use verify_core::webhooks::config::{DeliverySettings, Endpoint};
use verify_core::webhooks::delivery::{Delivery, DeliveryStatus, Outcome};
use verify_core::webhooks::signing::Secret;

/// Deliveries tried at once by one scheduled run.
const RETRY_CONCURRENCY: usize = 16;
/// Due deliveries one scheduled run takes on.
pub const RETRY_BATCH: usize = 100;

pub struct Dispatcher {
    pub events: EventStore,
    pub counters: CounterStore,
    pub deliveries: DeliveryStore,
    /// The configured endpoints.
    pub endpoints: Vec<Endpoint>,
    /// The services (with the webhooks created over the API), read from
    /// `store` at most once per cache period.
    pub catalog: Catalog,
    pub store: DynamoStore,
    /// Sign the webhooks created over the API (none: they get nothing).
    pub api_secrets: Vec<Secret>,
    pub client: WebhookClient,
    pub settings: DeliverySettings,
    pub clock: Arc<dyn Clock>,
    /// Turns stream records into events (by the snapshot's services).
    pub deriver: Deriver,
    /// Attempts' final outcomes since the last [`Dispatcher::take_tally`],
    /// first attempts and retries alike (for the metrics).
    pub tally: DeliveryTally,
}

/// Deliveries that reached their receiver, and those given up (attempts
/// exhausted, refused, or the endpoint disabled).
#[derive(Debug, Default)]
pub struct DeliveryTally {
    delivered: std::sync::atomic::AtomicUsize,
    given_up: std::sync::atomic::AtomicUsize,
}

impl DeliveryTally {
    fn note(&self, status: &DeliveryStatus) {
        use std::sync::atomic::Ordering::Relaxed;
        match status {
            DeliveryStatus::Delivered => self.delivered.fetch_add(1, Relaxed),
            DeliveryStatus::Pending => 0,
            _ => self.given_up.fetch_add(1, Relaxed),
        };
    }
}

/// A delivery recorded by this batch, with the verification its event is
/// about: its first attempt comes after those of that verification's earlier
/// events to the same endpoint.
#[derive(Clone, Debug)]
pub struct Fresh {
    pub verification: String,
    pub delivery: Delivery,
}

/// What a stream batch came to.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Sequence number of the record to hand back to the stream (a batch
    /// item failure): its events or deliveries could not be stored. Records
    /// after it are not handled; the stream hands them back with it.
    pub failed: Vec<String>,
    pub events: usize,
    pub deliveries: usize,
}

/// What a scheduled run came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetryOutcome {
    pub attempted: usize,
    pub delivered: usize,
    pub errors: usize,
}

/// What one batch or scheduled run works with: the current services and
/// every endpoint deliveries may go to.
#[derive(Clone)]
pub struct Snapshot {
    pub services: Arc<Services>,
    pub endpoints: Arc<Vec<Endpoint>>,
}

impl Dispatcher {
    /// The services and endpoints now, through the catalog's cache.
    pub async fn snapshot(&self) -> Result<Snapshot, String> {
        let services = self.catalog.current(&self.store).await.map_err(|e| format!("services unreadable: {e:?}"))?;
        let mut endpoints = self.endpoints.clone();
        endpoints.extend(services.webhooks().iter().filter_map(|w| w.endpoint(&self.api_secrets)));
        Ok(Snapshot { services, endpoints: Arc::new(endpoints) })
    }

    /// (delivered, given up) since the last call, and starts counting afresh.
    pub fn take_tally(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.tally.delivered.swap(0, Relaxed), self.tally.given_up.swap(0, Relaxed))
    }

    /// The lease an attempt holds on a delivery: the scheduled run leaves it
    /// alone until then, and takes it over if the attempt never reported.
    fn lease(&self) -> Seconds {
        self.settings.timeout.as_secs() as Seconds + 60
    }

    /// Handles the `Records` of one stream batch.
    pub async fn handle_records(self: &Arc<Self>, records: &[serde_json::Value]) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let snap = match self.snapshot().await {
            Ok(snap) => snap,
            Err(e) => {
                // Nothing is handled without knowing where events go: the
                // whole batch is handed back.
                tracing::error!(error = %e, "stream batch handed back");
                let first = records.first().and_then(|r| r["dynamodb"]["SequenceNumber"].as_str());
                outcome.failed.extend(first.map(str::to_owned));
                return outcome;
            }
        };
        let mut fresh = Vec::new();
        // Events stored for the first time, with the index of their record.
        let mut stored: Vec<(usize, Event, Parts)> = Vec::new();
        for (index, raw) in records.iter().enumerate() {
            let seq = raw.get("dynamodb").and_then(|d| d.get("SequenceNumber")).and_then(|s| s.as_str()).unwrap_or_default().to_owned();
            let record = match parse_record(raw) {
                Ok(r) => r,
                Err(e) => {
                    // A record we cannot read will not read better on retry:
                    // log it and move on rather than block the shard.
                    tracing::error!(sequence_number = %seq, error = %e, "unreadable stream record skipped");
                    continue;
                }
            };
            let mut new_events = Vec::new();
            let result = self.process(&snap, &record, &mut new_events).await;
            stored.extend(new_events.into_iter().map(|(e, parts)| (index, e, parts)));
            match result {
                Ok((events, deliveries)) => {
                    outcome.events += events;
                    outcome.deliveries += deliveries.len();
                    fresh.extend(deliveries);
                }
                Err(e) => {
                    // Lambda resumes from the lowest failed record; handling
                    // later ones now would only put their events first.
                    tracing::error!(sequence_number = %seq, error = %e, "stream record not processed; handing it back");
                    outcome.failed.push(seq);
                    break;
                }
            }
        }
        if let Some(index) = self.count(&stored).await {
            // Hand back the earliest record whose events were not counted.
            let seq = records[index]["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
            outcome.failed = vec![seq];
        }
        self.attempt_now(&snap, fresh).await;
        outcome
    }

    /// Adds the counters of events just stored. When some could not be
    /// added, marks those events uncounted (so a retry stores and counts them) and
    /// returns the index of the earliest record among them.
    async fn count(&self, stored: &[(usize, Event, Parts)]) -> Option<usize> {
        let events: Vec<(&Event, Parts)> = stored.iter().map(|(_, e, parts)| (e, *parts)).collect();
        let failed = self.counters.add(&events).await;
        let mut earliest = None;
        for (i, parts) in failed {
            let (index, e, _) = &stored[i];
            if let Err(err) = self.events.mark_uncounted(e, parts).await {
                tracing::error!(event_id = %e.id, error = %err, "event neither counted nor marked: the counters will miss it");
            }
            earliest = Some(earliest.map_or(*index, |x: usize| x.min(*index)));
        }
        earliest
    }

    /// Stores the events of one record and records their deliveries; returns
    /// the number of events and the deliveries newly recorded, in order.
    /// Each event stored for the first time is pushed to `stored` as soon as
    /// it is (even if a later write of the record fails), to be counted.
    pub async fn process(
        &self,
        snap: &Snapshot,
        record: &StreamRecord,
        stored: &mut Vec<(Event, Parts)>,
    ) -> Result<(usize, Vec<Fresh>), String> {
        let events = self.deriver.derive_with(&snap.services, &record.change());
        let mut created = Vec::new();
        let now = self.clock.now();
        for e in &events {
            if let Some(parts) = self.events.put(e).await? {
                stored.push((e.clone(), parts));
            }
            tracing::info!(event_id = %e.id, event_type = e.event_type.as_str(), verification_sid = %e.verification_sid, to = %e.to_masked, "event");
            let body = e.payload().to_string();
            for ep in snap.endpoints.iter().filter(|ep| ep.wants(&e.service_sid, e.event_type)) {
                let d = Delivery {
                    endpoint_id: ep.id.clone(),
                    event_id: e.id.clone(),
                    event_type: e.event_type.as_str().to_owned(),
                    body: body.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    created_at: now,
                    next_attempt_at: now + self.lease(),
                    last_status: None,
                    last_error: None,
                    delivered_at: None,
                };
                if self.deliveries.create(&d).await? {
                    created.push(Fresh { verification: format!("{}#{}", e.service_sid, e.verification_sid), delivery: d });
                }
            }
        }
        Ok((events.len(), created))
    }

    /// First attempts of freshly recorded deliveries, within the budget: one
    /// task per (endpoint, verification), which tries its deliveries in order.
    async fn attempt_now(self: &Arc<Self>, snap: &Snapshot, deliveries: Vec<Fresh>) {
        if deliveries.is_empty() {
            return;
        }
        let mut queues: Vec<Vec<Delivery>> = Vec::new();
        let mut queue_of: HashMap<(String, String), usize> = HashMap::new();
        for f in deliveries {
            let key = (f.delivery.endpoint_id.clone(), f.verification);
            let i = *queue_of.entry(key).or_insert_with(|| {
                queues.push(Vec::new());
                queues.len() - 1
            });
            queues[i].push(f.delivery);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for queue in queues {
            let (me, endpoints) = (Arc::clone(self), Arc::clone(&snap.endpoints));
            tasks.spawn(async move {
                for d in queue {
                    if let Err(e) = me.attempt(&endpoints, d).await {
                        tracing::warn!(error = %e, "first attempt not recorded; the retry schedule has it");
                    }
                }
            });
        }
        let all = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.settings.immediate_budget, all).await.is_err() {
            tracing::info!(left = tasks.len(), "first attempts still running are left to the retry schedule");
            tasks.abort_all();
        }
    }

    /// The scheduled run: retries every due delivery (up to [`RETRY_BATCH`]).
    pub async fn run_due(self: &Arc<Self>) -> Result<RetryOutcome, String> {
        let now = self.clock.now();
        let endpoints = self.snapshot().await?.endpoints;
        let due = self.deliveries.due(now, RETRY_BATCH).await?;
        let permits = Arc::new(tokio::sync::Semaphore::new(RETRY_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for d in due {
            let (me, permits, endpoints) = (Arc::clone(self), Arc::clone(&permits), Arc::clone(&endpoints));
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.ok()?;
                match me.deliveries.claim(&d, me.clock.now() + me.lease()).await {
                    Ok(true) => Some(me.attempt(&endpoints, d).await),
                    Ok(false) => None, // another run took it
                    Err(e) => Some(Err(e)),
                }
            });
        }
        let mut outcome = RetryOutcome::default();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Some(Ok(d))) => {
                    outcome.attempted += 1;
                    if d.status == DeliveryStatus::Delivered {
                        outcome.delivered += 1;
                    }
                }
                Ok(Some(Err(e))) => {
                    outcome.errors += 1;
                    tracing::warn!(error = %e, "retry not recorded");
                }
                Ok(None) => {}
                Err(e) => {
                    outcome.errors += 1;
                    tracing::warn!(error = %e, "retry task failed");
                }
            }
        }
        Ok(outcome)
    }

    /// One attempt of a delivery this caller holds, and its record.
    /// A webhook since deleted or disabled over the API is no longer among
    /// `endpoints`: its pending deliveries end as for an endpoint removed
    /// from the configuration.
    async fn attempt(&self, endpoints: &[Endpoint], d: Delivery) -> Result<Delivery, String> {
        let Some(ep) = endpoints.iter().find(|e| e.id == d.endpoint_id) else {
            let mut after = d.clone();
            after.status = DeliveryStatus::Failed;
            after.last_error = Some("endpoint no longer configured".into());
            self.deliveries.record(&d, &after).await?;
            self.tally.note(&after.status);
            return Ok(after);
        };
        if self.deliveries.endpoint_disabled(&ep.id).await? {
            let mut after = d.clone();
            after.status = DeliveryStatus::Disabled;
            after.last_error = Some("endpoint disabled (it answered 410 Gone)".into());
            self.deliveries.record(&d, &after).await?;
            self.tally.note(&after.status);
            return Ok(after);
        }
        let outcome = self.client.send(&ep.url, &ep.secrets, &d.event_id, &d.body, self.clock.now()).await;
        let now = self.clock.now();
        let after = d.after(&outcome, now);
        match &outcome {
            Outcome::Delivered { status } => {
                tracing::info!(endpoint = %ep.id, event_id = %d.event_id, status, attempts = after.attempts, "webhook delivered")
            }
            Outcome::Gone => {
                tracing::warn!(endpoint = %ep.id, event_id = %d.event_id, "endpoint answered 410 Gone; disabling it");
                self.deliveries.disable_endpoint(&ep.id, now, "410 Gone").await?;
            }
            Outcome::Failed { error, .. } | Outcome::Refused { reason: error } => match after.status {
                DeliveryStatus::Pending => tracing::warn!(
                    endpoint = %ep.id, event_id = %d.event_id, attempts = after.attempts, error = %error,
                    retry_in = after.next_attempt_at - now, "webhook attempt failed; will retry"
                ),
                _ => tracing::error!(
                    endpoint = %ep.id, event_id = %d.event_id, attempts = after.attempts, error = %error,
                    "webhook delivery given up"
                ),
            },
        }
        if self.deliveries.record(&d, &after).await? {
            self.tally.note(&after.status);
        } else {
            tracing::warn!(endpoint = %ep.id, event_id = %d.event_id, "another attempt was recorded first");
        }
        Ok(after)
    }
}
