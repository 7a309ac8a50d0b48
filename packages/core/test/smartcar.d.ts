// The smartcar SDK ships no types; the tests use it only as an oracle for the VERIFY challenge.
declare module 'smartcar' {
  const smartcar: {
    hashChallenge(amt: string, challenge: string): string;
    verifyPayload(amt: string, signature: string, body: unknown): boolean;
  };
  export default smartcar;
}
