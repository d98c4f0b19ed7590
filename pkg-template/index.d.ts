export * from './webhook';
export * from './client';
