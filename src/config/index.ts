export * as validate from './validate.js';
