/**
 * The shapes of the verified bodies (`result.event`) the built-in profiles type. They describe what
 * each provider documents; they are types only, nothing is checked at run time: `result.event` is
 * the body as JSON, whatever its shape. For your own payload type, `verifier.verify<MyEvent>(...)`.
 *
 * @module
 */

// --- Smartcar -----------------------------------------------------------------------------------

/** The `meta` of a Smartcar v4.0 webhook delivery. */
export interface SmartcarV4Meta {
  /** Payload version: `'4.0'`. */
  readonly version: string;
  /** The webhook's id. */
  readonly webhookId: string;
  /** The webhook's name in the Smartcar Dashboard. */
  readonly webhookName?: string;
  /** This delivery's id (a retry gets a new one; `eventId` stays). */
  readonly deliveryId: string;
  /** When Smartcar sent it, epoch ms. */
  readonly deliveredAt: number;
  /** Number of signals in the payload. */
  readonly signalCount?: number;
  /** `'LIVE'` or `'TEST'`. */
  readonly mode?: string;
}

/** One signal of a Smartcar v4.0 `VEHICLE_STATE` event. */
export interface SmartcarSignal {
  /** Signal code, for example `tractionbattery-stateofcharge`. */
  readonly code: string;
  /** Signal name, for example `StateOfCharge`. */
  readonly name?: string;
  /** Signal group, for example `TractionBattery`. */
  readonly group?: string;
  /** The signal's value. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** Set instead of `body` when the signal could not be read. */
  readonly error?: Readonly<Record<string, unknown>>;
  /** Timestamps of the value (`oemUpdatedAt`, `retrievedAt`, ...). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Smartcar v4.0 `VERIFY`: the one-time handshake (the adapters answer it themselves). */
export interface SmartcarV4Verify {
  /** Unique id of the event. */
  readonly eventId: string;
  /** `'VERIFY'`. */
  readonly eventType: 'VERIFY';
  /** The challenge to answer with its HMAC. */
  readonly data: {
    /** Random text; the answer is `{ challenge: hex HMAC-SHA256(token, challenge) }`. */
    readonly challenge: string;
  };
  /** Delivery metadata. */
  readonly meta: SmartcarV4Meta;
}

/** The vehicle of a Smartcar v4.0 `VEHICLE_STATE` event. */
export interface SmartcarVehicle {
  /** The Smartcar vehicle id. */
  readonly id: string;
  /** Make, as Smartcar reports it. */
  readonly make?: string;
  /** Model. */
  readonly model?: string;
  /** Model year. */
  readonly year?: number;
  /** VIN, when the application may read it. */
  readonly vin?: string;
}

/** Why a Smartcar v4.0 `VEHICLE_STATE` event was delivered. */
export interface SmartcarTrigger {
  /** `SIGNAL_UPDATED`, `FIRST_DELIVERY`, ... */
  readonly type: string;
  /** For `SIGNAL_UPDATED`: the signal that changed. */
  readonly signal?: {
    /** The signal's code. */
    readonly code: string;
  };
}

/** Smartcar v4.0 `VEHICLE_STATE`: signal values of one vehicle. */
export interface SmartcarV4VehicleState {
  /** Unique id of the event; the same across retries (deduplicate on it). */
  readonly eventId: string;
  /** `'VEHICLE_STATE'`. */
  readonly eventType: 'VEHICLE_STATE';
  /** The Smartcar vehicle id. */
  readonly vehicleId?: string;
  /** The vehicle, its signals and its user. */
  readonly data: {
    /** The vehicle. */
    readonly vehicle: SmartcarVehicle;
    /** Every signal the webhook subscribes to. */
    readonly signals: readonly SmartcarSignal[];
    /** The vehicle's user. */
    readonly user?: {
      /** The Smartcar user id. */
      readonly id: string;
    };
  };
  /** What caused this delivery (`SIGNAL_UPDATED` with the signal's code, `FIRST_DELIVERY`, ...). */
  readonly triggers?: readonly SmartcarTrigger[];
  /** Delivery metadata. */
  readonly meta: SmartcarV4Meta;
}

/** Smartcar v4.0 `VEHICLE_ERROR`: signals that could not be read. */
export interface SmartcarV4VehicleError {
  /** Unique id of the event. */
  readonly eventId: string;
  /** `'VEHICLE_ERROR'`. */
  readonly eventType: 'VEHICLE_ERROR';
  /** The Smartcar vehicle id. */
  readonly vehicleId?: string;
  /** Error details and the affected signals. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Delivery metadata. */
  readonly meta: SmartcarV4Meta;
}

/** A Smartcar webhook, payload version 4.0: narrow on `eventType`. */
export type SmartcarV4Event = SmartcarV4Verify | SmartcarV4VehicleState | SmartcarV4VehicleError;

/** Smartcar v2.0 `verify`: the one-time handshake of a v2.0 webhook. */
export interface SmartcarV2Verify {
  /** `'2.0'`. */
  readonly version: string;
  /** The webhook's id. */
  readonly webhookId: string;
  /** `'verify'`. */
  readonly eventName: 'verify';
  /** The challenge to answer with its HMAC. */
  readonly payload: {
    /** Random text; the answer is `{ challenge: hex HMAC-SHA256(token, challenge) }`. */
    readonly challenge: string;
  };
}

/** A Smartcar v2.0 webhook other than `verify` (`schedule`, `eventBased`, `dynamic`). */
export interface SmartcarV2Delivery {
  /** `'2.0'`. */
  readonly version: string;
  /** The webhook's id. */
  readonly webhookId: string;
  /** `'schedule'`, `'eventBased'` or `'dynamic'`. */
  readonly eventName: 'schedule' | 'eventBased' | 'dynamic';
  /** `'test'` or `'live'`. */
  readonly mode?: string;
  /** The data (vehicles and their responses; for `eventBased`: `eventId`, `vehicleId`, `eventType`, `eventTime`). */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A Smartcar webhook, payload version 2.0: narrow on `eventName`. */
export type SmartcarV2Event = SmartcarV2Verify | SmartcarV2Delivery;

/** What `result.event` is for `providers.smartcar()`: a v4.0 (`eventType`) or v2.0 (`eventName`) payload. */
export type SmartcarEvent = SmartcarV4Event | SmartcarV2Event;

// --- Dataspike ----------------------------------------------------------------------------------

/** What `result.event` is for `providers.dataspike()`. */
export interface DataspikeEvent {
  /** Unique id of the event. */
  readonly id: string;
  /** The webhook that delivered it. */
  readonly webhook_id: string;
  /** `AML_SCREENING`, ... */
  readonly event_type: string;
  /** When the event happened, ISO 8601. */
  readonly timestamp: string;
  /** The event's data; its shape depends on `event_type`. */
  readonly payload: Readonly<Record<string, unknown>>;
}

// --- Stripe, GitHub, Standard Webhooks ----------------------------------------------------------

/** What `result.event` is for `providers.stripe()`: the envelope of a Stripe `Event` (use the `stripe` package's types for `data.object`). */
export interface StripeEvent {
  /** `evt_…` */
  readonly id: string;
  /** `'event'`. */
  readonly object: 'event';
  /** `payment_intent.succeeded`, ... */
  readonly type: string;
  /** Creation time, unix seconds. */
  readonly created: number;
  /** Live or test mode. */
  readonly livemode: boolean;
  /** The API version the event was rendered with. */
  readonly api_version?: string | null;
  /** The object the event is about, and for `*.updated` the changed attributes. */
  readonly data: {
    /** The API resource (a `PaymentIntent`, an `Invoice`, ...). */
    readonly object: Readonly<Record<string, unknown>>;
    /** For `*.updated` events: the previous values of the changed attributes. */
    readonly previous_attributes?: Readonly<Record<string, unknown>>;
  };
  /** Webhooks still to be delivered for this event. */
  readonly pending_webhooks?: number;
  /** The API request that caused the event, if any. */
  readonly request?: {
    /** The request's id (`req_…`), `null` for automatic events. */
    readonly id: string | null;
    /** The idempotency key the request was sent with. */
    readonly idempotency_key?: string | null;
  } | null;
  /** Connect: the connected account. */
  readonly account?: string;
}

/** A GitHub user or organization in a webhook payload. */
export interface GitHubAccount {
  /** Login. */
  readonly login: string;
  /** Account id. */
  readonly id: number;
  /** The other account fields. */
  readonly [field: string]: unknown;
}

/** What `result.event` is for `providers.github()`: the fields common to GitHub webhook payloads (the event name is the `X-GitHub-Event` header). */
export interface GitHubEvent {
  /** The activity (`opened`, `created`, ...), for events that have one. */
  readonly action?: string;
  /** Who triggered it. */
  readonly sender?: GitHubAccount;
  /** The repository, for repository events. */
  readonly repository?: {
    /** Repository id. */
    readonly id: number;
    /** `keyturn`. */
    readonly name: string;
    /** `keyturn/keyturn`. */
    readonly full_name: string;
    /** The other repository fields. */
    readonly [field: string]: unknown;
  };
  /** The organization, for organization events. */
  readonly organization?: GitHubAccount;
  /** The GitHub App installation, for app webhooks. */
  readonly installation?: {
    /** Installation id. */
    readonly id: number;
    /** The other installation fields. */
    readonly [field: string]: unknown;
  };
  /** The rest of the payload (it depends on the event). */
  readonly [field: string]: unknown;
}

/** What `result.event` is for `providers.standardWebhooks()`: the payload the specification recommends. */
export interface StandardWebhooksEvent {
  /** Full-stop delimited event type, `user.created`. */
  readonly type: string;
  /** When the event happened, ISO 8601. */
  readonly timestamp: string;
  /** The event's data. */
  readonly data: Readonly<Record<string, unknown>>;
}
