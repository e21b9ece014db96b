/** Prometheus text exposition (format 0.0.4) of the gateway's counters and upstream latency histogram. */

export type Outcome =
  | 'ok'
  | 'unauthorized'
  | 'budget_exhausted'
  | 'rate_limited'
  | 'issuer_unavailable'
  | 'store_unavailable'
  | 'credential_unavailable'
  | 'upstream_error';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  private readonly outcomes = new Map<Outcome, number>();
  private readonly checks = new Map<string, number>();
  private readonly latencyBuckets = BUCKETS.map(() => 0);
  private latencyCount = 0;
  private latencySum = 0;

  request(outcome: Outcome, check?: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    if (check) this.checks.set(check, (this.checks.get(check) ?? 0) + 1);
  }

  upstreamLatency(seconds: number): void {
    this.latencyCount += 1;
    this.latencySum += seconds;
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.latencyBuckets[i]! += 1;
    });
  }

  render(): string {
    const lines = [
      '# HELP oc_gateway_requests_total Requests by outcome.',
      '# TYPE oc_gateway_requests_total counter',
      ...[...this.outcomes].map(([outcome, n]) => `oc_gateway_requests_total{outcome="${outcome}"} ${n}`),
      '# HELP oc_gateway_rejections_total Token rejections by the check that failed.',
      '# TYPE oc_gateway_rejections_total counter',
      ...[...this.checks].map(([check, n]) => `oc_gateway_rejections_total{check="${check.replace(/["\\\n]/g, '_')}"} ${n}`),
      '# HELP oc_gateway_budget_rejections_total Requests refused for an exhausted budget or the rate limit.',
      '# TYPE oc_gateway_budget_rejections_total counter',
      `oc_gateway_budget_rejections_total{reason="budget"} ${this.outcomes.get('budget_exhausted') ?? 0}`,
      `oc_gateway_budget_rejections_total{reason="rate"} ${this.outcomes.get('rate_limited') ?? 0}`,
      '# HELP oc_gateway_upstream_latency_seconds Time to the upstream response headers.',
      '# TYPE oc_gateway_upstream_latency_seconds histogram',
      ...BUCKETS.map((bound, i) => `oc_gateway_upstream_latency_seconds_bucket{le="${bound}"} ${this.latencyBuckets[i]}`),
      `oc_gateway_upstream_latency_seconds_bucket{le="+Inf"} ${this.latencyCount}`,
      `oc_gateway_upstream_latency_seconds_sum ${this.latencySum}`,
      `oc_gateway_upstream_latency_seconds_count ${this.latencyCount}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
