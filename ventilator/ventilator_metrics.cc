#include "ventilator/ventilator_metrics.h"

#include <set>

#include "runtime/metrics_endpoint.h"

namespace scorepipe {

VentilatorMetrics::VentilatorMetrics(prometheus::Registry& registry)
    : received_(AddCounter(registry, "scorepipe_ventilator_batches_received_total",
                           "Batches received from bridges")),
      dispatched_(AddCounter(registry, "scorepipe_ventilator_batches_dispatched_total",
                             "Batches sent to workers, re-dispatches included")),
      done_(AddCounter(registry, "scorepipe_ventilator_batches_done_total",
                       "Batches the workers reported done")),
      redispatched_(AddCounter(registry, "scorepipe_ventilator_redispatched_total",
                               "Batches sent again: their worker died, left, was replaced or ran over time")),
      overdue_(AddCounter(registry, "scorepipe_ventilator_overdue_total",
                          "Batches re-dispatched because they ran over ventilator.batch_timeout_ms")),
      poisoned_(AddCounter(registry, "scorepipe_ventilator_poisoned_total",
                           "Batches given up after too many attempts and dead-lettered")),
      joined_(AddCounter(registry, "scorepipe_ventilator_workers_joined_total", "Workers that joined")),
      lost_(AddCounter(registry, "scorepipe_ventilator_workers_lost_total",
                       "Workers declared dead (no heartbeat), gone or replaced")),
      refused_(AddCounter(registry, "scorepipe_ventilator_frames_refused_total",
                          "Frames that did not decode (wrong format or version) and were dropped")),
      heartbeats_(
          AddCounter(registry, "scorepipe_ventilator_heartbeats_total", "Heartbeats received from workers")),
      live_workers_(AddGauge(registry, "scorepipe_ventilator_live_workers", "Workers alive now")),
      queued_(
          AddGauge(registry, "scorepipe_ventilator_queued_batches", "Batches waiting for a worker's credit")),
      in_flight_(
          AddGauge(registry, "scorepipe_ventilator_in_flight_batches", "Batches at workers, not yet done")),
      heartbeat_age_(prometheus::BuildGauge()
                         .Name("scorepipe_worker_heartbeat_age_seconds")
                         .Help("Seconds since the ventilator last heard from a live worker")
                         .Register(registry)),
      worker_in_flight_(prometheus::BuildGauge()
                            .Name("scorepipe_worker_in_flight_batches")
                            .Help("Batches a live worker holds")
                            .Register(registry)) {}

void VentilatorMetrics::Update(const Dispatcher& dispatcher, const VentilatorStats& stats,
                               SteadyClock::time_point now) {
  const DispatcherStats& d = dispatcher.stats();
  FollowCount(received_, d.batches_received);
  FollowCount(dispatched_, d.batches_sent);
  FollowCount(done_, d.batches_done);
  FollowCount(redispatched_, d.redispatched);
  FollowCount(overdue_, d.overdue);
  FollowCount(poisoned_, d.poisoned);
  FollowCount(joined_, d.workers_joined);
  FollowCount(lost_, d.workers_lost);
  FollowCount(refused_, stats.frames_refused);
  FollowCount(heartbeats_, stats.heartbeats);
  live_workers_.Set(static_cast<double>(dispatcher.live_workers()));
  queued_.Set(static_cast<double>(dispatcher.queued()));
  in_flight_.Set(static_cast<double>(dispatcher.in_flight()));

  std::set<std::string> live;
  for (const WorkerView& w : dispatcher.Workers()) {
    live.insert(w.worker_id);
    auto [it, added] = workers_.try_emplace(w.worker_id, PerWorker{nullptr, nullptr});
    if (added) {
      it->second.heartbeat_age = &heartbeat_age_.Add({{"worker", w.worker_id}});
      it->second.in_flight = &worker_in_flight_.Add({{"worker", w.worker_id}});
    }
    it->second.heartbeat_age->Set(std::chrono::duration<double>(now - w.last_seen).count());
    it->second.in_flight->Set(static_cast<double>(w.in_flight));
  }
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (live.contains(it->first)) {
      ++it;
      continue;
    }
    heartbeat_age_.Remove(it->second.heartbeat_age);
    worker_in_flight_.Remove(it->second.in_flight);
    it = workers_.erase(it);
  }
}

}  // namespace scorepipe
