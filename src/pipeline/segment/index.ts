/**
 * Segmentation for the compositor: person, hair and skin masks refined against the photo, and relative depth.
 * Models: MediaPipe selfie segmentation, the PAN skin/clothes/hair model and TCMonoDepth (cards in models/cards.ts).
 */
export { estimateDepth } from './depth.js';
export { openSegmentationModels, type PersonSegmentation, type SegmentOptions, segmentPerson } from './person.js';
export type { Plane } from './plane.js';
