import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Attributes, type Meter, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import { type BackendCallEvent, type CommitEvent, DIAGNOSTICS_CHANNELS } from '@sessionbridge/core'

/** Options of `sessionbridgeTelemetry`. */
export interface SessionbridgeTelemetryOptions {
  /** Spans, one per backend call, children of the active span (the request's). @default no spans */
  tracer?: Tracer
  /** Duration histograms and commit / dropped-write counters. @default no metrics */
  meter?: Meter
}

/**
 * Turns sessionbridge's diagnostics events into OpenTelemetry spans and metrics. Returns a function
 * that unsubscribes. The events carry no ids and no data, so neither do the spans.
 *
 * Spans: `sessionbridge.<operation>` (e.g. `sessionbridge.load`), attributes `sessionbridge.backend`
 * and `sessionbridge.outcome`, status ERROR on `error` / `timeout`. Metrics:
 * `sessionbridge.backend.duration` (ms, by backend, operation, outcome), `sessionbridge.commits`
 * (by backend, reason, outcome) and `sessionbridge.dropped_writes` (writes lost to an outage under
 * `onBackendError: 'continue'`).
 */
export function sessionbridgeTelemetry(options: SessionbridgeTelemetryOptions): () => void {
  const { tracer, meter } = options
  const callDuration = meter?.createHistogram('sessionbridge.backend.duration', {
    unit: 'ms',
    description: 'Duration of one session backend call',
  })
  const commits = meter?.createCounter('sessionbridge.commits', {
    description: 'Requests that committed a session change',
  })
  const dropped = meter?.createCounter('sessionbridge.dropped_writes', {
    description: "Session writes dropped during a backend outage (onBackendError: 'continue')",
  })

  const onCall = (message: unknown) => {
    const event = message as BackendCallEvent
    const attributes: Attributes = {
      'sessionbridge.backend': event.backend,
      'sessionbridge.operation': event.operation,
      'sessionbridge.outcome': event.outcome,
    }
    callDuration?.record(event.durationMs, attributes)
    if (!tracer) return
    // The event arrives when the call ends: the span is back-dated by the call's duration.
    const end = performance.timeOrigin + performance.now()
    const span = tracer.startSpan(`sessionbridge.${event.operation}`, {
      attributes,
      startTime: end - event.durationMs,
    })
    if (event.outcome === 'error' || event.outcome === 'timeout') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorName ?? event.outcome })
    }
    span.end(end)
  }
  const onCommit = (message: unknown) => {
    const event = message as CommitEvent
    const attributes: Attributes = {
      'sessionbridge.backend': event.backend,
      'sessionbridge.reason': event.reason,
      'sessionbridge.outcome': event.outcome,
    }
    commits?.add(1, attributes)
    if (event.dropped) dropped?.add(1, { 'sessionbridge.backend': event.backend })
  }
  subscribe(DIAGNOSTICS_CHANNELS.backend, onCall)
  subscribe(DIAGNOSTICS_CHANNELS.commit, onCommit)
  return () => {
    unsubscribe(DIAGNOSTICS_CHANNELS.backend, onCall)
    unsubscribe(DIAGNOSTICS_CHANNELS.commit, onCommit)
  }
}
