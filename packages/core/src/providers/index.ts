/**
 * Provider profiles, exported by name from `@keyturn/core/providers` and as the `providers`
 * namespace from `@keyturn/core`.
 *
 * @module
 */
export { smartcar, smartcarChallenge, type SmartcarOptions } from './smartcar.ts';
export { dataspike, type DataspikeOptions } from './dataspike.ts';
export { mobway, type MobwayOptions } from './mobway.ts';
export { standardWebhooks, type StandardWebhooksOptions } from './standard-webhooks.ts';
export { stripe, type StripeOptions } from './stripe.ts';
export { github, type GitHubOptions } from './github.ts';
export { shopify, type ShopifyOptions } from './shopify.ts';
export { slack, type SlackOptions } from './slack.ts';
export { hmac, type HmacProfileOptions, type SecretCodec } from './hmac.ts';
export type {
  ProviderProfile,
  AsymmetricScheme,
  eventType,
  ParsedSignature,
  TimestampTolerance,
  SignContext,
  ChallengeSpec,
  HeadersInput,
  HmacAlgorithm,
} from './types.ts';
export type {
  SmartcarEvent,
  SmartcarV4Event,
  SmartcarV4Verify,
  SmartcarV4VehicleState,
  SmartcarV4VehicleError,
  SmartcarV4Meta,
  SmartcarSignal,
  SmartcarVehicle,
  SmartcarTrigger,
  SmartcarV2Event,
  SmartcarV2Verify,
  SmartcarV2Delivery,
  DataspikeEvent,
  StripeEvent,
  GitHubEvent,
  GitHubAccount,
  StandardWebhooksEvent,
} from './events.ts';
