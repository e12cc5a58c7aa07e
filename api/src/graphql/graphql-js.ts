/**
 * graphql-js, loaded as the one copy Pothos and Yoga use. Under Vitest a bare `graphql` import resolves
 * to its .mjs build while Node (and so the externalized Pothos/Yoga) load the CommonJS build; two copies
 * break graphql's instanceof checks. Importing the file by path gives every loader the same module.
 */
export * from 'graphql/index.js';
