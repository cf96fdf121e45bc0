// Prints a span per session backend call and the metrics every 5 s: `pnpm start`, then
// `curl -c jar -b jar http://127.0.0.1:3010/` a few times.
import { metrics, trace } from '@opentelemetry/api'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { buildApp } from './app.ts'
import { sessionbridgeTelemetry } from './telemetry.ts'

trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }),
)
metrics.setGlobalMeterProvider(
  new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new ConsoleMetricExporter(),
        exportIntervalMillis: 5000,
      }),
    ],
  }),
)
sessionbridgeTelemetry({ tracer: trace.getTracer('sessionbridge'), meter: metrics.getMeter('sessionbridge') })

const app = await buildApp()
const port = Number(process.env.PORT ?? 3010)
await app.listen({ host: '127.0.0.1', port })
console.log(`http://127.0.0.1:${port}/`)
