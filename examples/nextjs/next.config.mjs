/** @type {import('next').NextConfig} */
export default {
  // Next.js adds its own settings to the tsconfig it builds with; keep them out of the repository's.
  typescript: { tsconfigPath: 'tsconfig.next.json' },
};
