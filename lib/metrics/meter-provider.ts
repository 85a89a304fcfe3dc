/**
 * The part of OpenTelemetry's `MeterProvider` this package uses, typed structurally: an app
 * without `@opentelemetry/api` (an optional peer) still compiles against our declarations, and
 * any provider (the SDK's `MeterProvider`, the global one, a test double) fits.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * const meterProvider: MeterProviderLike = new MeterProvider({ readers: [exporter] });
 * AuthKitModule.forRoot({ metrics: { meterProvider } });
 * ```
 */
export interface MeterProviderLike {
  /** The meter this package creates its instruments from (named `nestjs-authkit`). */
  getMeter(name: string, version?: string): MeterLike;
}

/**
 * The instruments this package creates from its meter (`nestjs-authkit`).
 *
 * @example
 * ```ts
 * const meter: MeterLike = meterProvider.getMeter('nestjs-authkit');
 * meter.createCounter('authkit.session.refreshes', { unit: '{refresh}' });
 * ```
 */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): CounterLike;
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableGaugeLike;
}

/**
 * An instrument's description and unit (UCUM, `{annotation}` for counts).
 *
 * @example
 * ```ts
 * const options: InstrumentOptions = { description: 'refreshes', unit: '{refresh}' };
 * ```
 */
export interface InstrumentOptions {
  description?: string;
  unit?: string;
}

/**
 * Attributes of one measurement: string values only, allocated once per combination.
 *
 * @example
 * ```ts
 * const attributes: MetricAttributes = Object.freeze({ cause: 'expiry', result: 'ok' });
 * ```
 */
export type MetricAttributes = Readonly<Record<string, string>>;

/**
 * A monotonic counter.
 *
 * @example
 * ```ts
 * counter.add(1, Object.freeze({ operation: 'read' }));
 * ```
 */
export interface CounterLike {
  add(value: number, attributes?: MetricAttributes): void;
}

/**
 * What an observable gauge's callback reports to.
 *
 * @example
 * ```ts
 * gauge.addCallback((result: ObservableResultLike) => result.observe(12.5));
 * ```
 */
export interface ObservableResultLike {
  observe(value: number, attributes?: MetricAttributes): void;
}

/**
 * A gauge read when the exporter collects.
 *
 * @example
 * ```ts
 * const read = (result: ObservableResultLike) => result.observe(process.uptime());
 * gauge.addCallback(read);
 * gauge.removeCallback(read);
 * ```
 */
export interface ObservableGaugeLike {
  addCallback(callback: (result: ObservableResultLike) => void): void;
  removeCallback(callback: (result: ObservableResultLike) => void): void;
}
