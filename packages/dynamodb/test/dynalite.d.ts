declare module 'dynalite' {
  import type { Server } from 'node:http';
  /** dynalite 4: an in-memory DynamoDB implementation as a node:http server. */
  export default function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
}
