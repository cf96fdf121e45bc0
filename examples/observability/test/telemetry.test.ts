import { context, type Span } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { memoryBackend, type SessionBackend } from '@sessionbridge/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.ts'
import { sessionbridgeTelemetry } from '../src/telemetry.ts'

describe('sessionbridge events as OpenTelemetry spans and metrics', () => {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const contextManager = new AsyncLocalStorageContextManager().enable()
  let stop: () => void

  beforeAll(() => {
    context.setGlobalContextManager(contextManager)
    stop = sessionbridgeTelemetry({
      tracer: tracerProvider.getTracer('test'),
      meter: meterProvider.getMeter('test'),
    })
  })
  afterAll(async () => {
    stop()
    context.disable()
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  })

  async function metricPoints(name: string) {
    await reader.forceFlush()
    // Cumulative temporality: the latest export holds every point so far.
    const latest = metricExporter.getMetrics().at(-1)
    const all = latest?.scopeMetrics.flatMap((s) => s.metrics) ?? []
    return all
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints as Array<DataPoint<unknown>>)
  }

  it('a visit becomes spans under the request span, and counted, timed metrics', async () => {
    const app = await buildApp()
    const tracer = tracerProvider.getTracer('app')
    const request = (cookie?: string) =>
      tracer.startActiveSpan('GET /', async (span: Span) => {
        try {
          return await app.inject({ url: '/', headers: cookie ? { cookie } : {} })
        } finally {
          span.end()
        }
      })
    const first = await request()
    const cookie = String(first.headers['set-cookie']).split(';')[0]!
    const second = await request(cookie)
    expect(second.json()).toEqual({ visits: 2 })
    await app.close()

    const finished = spans.getFinishedSpans()
    const ours = finished.filter((s) => s.name.startsWith('sessionbridge.'))
    expect(ours.map((s) => s.name)).toEqual([
      'sessionbridge.create',
      'sessionbridge.load',
      'sessionbridge.save',
    ])
    const parents = finished.filter((s) => s.name === 'GET /').map((s) => s.spanContext().spanId)
    for (const span of ours) {
      expect(parents).toContain(span.parentSpanContext?.spanId)
      expect(span.attributes).toMatchObject({
        'sessionbridge.backend': 'memory',
        'sessionbridge.outcome': 'ok',
      })
    }
    expect(JSON.stringify(ours.map((s) => s.attributes))).not.toContain(cookie.split('=')[1]!)

    const durations = await metricPoints('sessionbridge.backend.duration')
    expect(durations.map((p) => p.attributes['sessionbridge.operation']).sort()).toEqual([
      'create',
      'load',
      'save',
    ])
    const commits = await metricPoints('sessionbridge.commits')
    expect(commits.map((p) => [p.attributes['sessionbridge.reason'], p.value]).sort()).toEqual([
      ['create', 1],
      ['save', 1],
    ])
  })

  it('an outage under the continue policy counts dropped writes and marks failed calls as errors', async () => {
    const down: SessionBackend = {
      ...memoryBackend(),
      name: 'down',
      load: async () => {
        throw new Error('ECONNREFUSED')
      },
    }
    const app = await buildApp(down)
    const answer = await app.inject({ url: '/', headers: { cookie: `sessionid=${'e'.repeat(32)}` } })
    expect(answer.statusCode).toBe(200)
    await app.close()
    const failed = spans.getFinishedSpans().filter((s) => s.attributes['sessionbridge.backend'] === 'down')
    expect(failed.map((s) => [s.name, s.status.code, s.status.message])).toEqual([
      ['sessionbridge.load', 2, 'SessionBackendError'],
    ])
    const dropped = await metricPoints('sessionbridge.dropped_writes')
    expect(dropped.map((p) => [p.attributes['sessionbridge.backend'], p.value])).toEqual([['down', 1]])
  })
})
