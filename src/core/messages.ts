import type { ErrorCode, ErrorDetails, ErrorPayload } from '../errors.js';

/**
 * One friendly sentence per error code, with what to do next. Shared by every adapter and the CLI; adapters only
 * escape and format it for their platform. `d` holds the error's details (selfie number, limits, suggestions).
 */
type Sentence = (d: ErrorDetails) => string;

const which = (d: ErrorDetails): string => (typeof d['selfie'] === 'number' ? `selfie ${d['selfie']}` : 'your selfie');
const got = (d: ErrorDetails): string => (d['got'] ? ` (got ${String(d['got'])})` : '');
const suggestion = (d: ErrorDetails): string => (d['suggestion'] ? ` Did you mean '${String(d['suggestion'])}'?` : '');
/** "The event 'Winter'", or "This event" without a name. */
const eventName = (d: ErrorDetails): string => (d['name'] ? `The event '${String(d['name'])}'` : 'This event');

const SENTENCES: Record<ErrorCode, Sentence> = {
  'input.empty': (d) => `${cap(which(d))} is an empty file. Attach the photo again.`,
  'input.too_large': (d) =>
    `${cap(which(d))} is too large${got(d)}. Send a photo under ${String(d['limit'] ?? 'the size limit')}.`,
  'input.too_many_pixels': (d) =>
    `${cap(which(d))} has too many pixels${got(d)}. Send a photo of at most ${String(d['limit'] ?? '40 megapixels')}.`,
  'input.too_small': (d) =>
    `${cap(which(d))} is too small${got(d)}. Send a photo at least ${String(d['limit'] ?? '64x64')} pixels.`,
  'input.unsupported_format': (d) => `I can't read ${which(d)}${got(d)}. Send a JPEG, PNG, WebP, AVIF or GIF photo.`,
  'input.heic_unsupported': (d) =>
    `${cap(which(d))} is a HEIC photo, which I can't read. Export it as JPEG (on iPhone: Settings > Camera > Formats > Most Compatible) and send it again.`,
  'input.corrupt': (d) => `${cap(which(d))} looks damaged or cut off. Send the original photo again.`,
  'input.not_image': (d) => `${cap(which(d))} is not an image${got(d)}. Send a JPEG, PNG, WebP, AVIF or GIF photo.`,
  'download.host_not_allowed': (d) =>
    `I can only fetch ${which(d)} from this chat's own file storage. Upload the photo directly instead of linking it.`,
  'download.failed': (d) => `I couldn't download ${which(d)}. Try uploading it again in a minute.`,
  'download.too_large': (d) =>
    `${cap(which(d))} is too large to download${got(d)}. Send a photo under ${String(d['limit'] ?? 'the size limit')}.`,
  'face.none': (d) =>
    `I couldn't find a face in ${which(d)}: use a well-lit photo where your face fills at least a fifth of the frame.`,
  'face.too_small': (d) =>
    `The face in ${which(d)} is too small for a good portrait. Use a closer photo where your face fills at least a fifth of the frame.`,
  'face.low_resolution': (d) =>
    `${cap(which(d))} is too small for a sharp portrait: your head and shoulders are only ${String(d['got'] ?? 'a few pixels')} across, so the portrait would come out blurry. Send the original photo from your phone or camera (at least ${String(d['limit'] ?? '256 pixels')} across your head and shoulders), not a thumbnail or a profile picture.`,
  'face.several': (d) =>
    `${cap(which(d))} shows ${String(d['count'] ?? 'several')} faces and none clearly stands out, so I can't tell which one is you. Send a selfie of just you, or crop the photo to your face.`,
  'face.different_people': (d) =>
    `${cap(which(d))} doesn't look like the same person as selfie 1. Send selfies of one person only: I use them together to keep your likeness.`,
  'face.cut_off': (d) =>
    `${cap(String(d['part'] ?? 'your face'))} runs off the edge of ${which(d)}, so I can't make a whole portrait of you from it. Send a selfie with your whole face in the picture and a little room around your head.`,
  'request.no_selfie': () => 'Attach at least one selfie (a photo of your face) to make a portrait.',
  'request.too_many_selfies': (d) => `Send at most ${String(d['limit'] ?? 4)} selfies at once.`,
  'request.bad_pose': (d) =>
    d['range']
      ? `The pose '${String(d['got'] ?? '')}' is outside what I can draw: ${String(d['range'])}.`
      : `I don't know the pose '${String(d['got'] ?? '')}'.${suggestion(d)} Try front, three-quarter left, profile right, look up, or yaw=20 pitch=-10.`,
  'request.pose_out_of_range': (d) =>
    d['advice'] !== undefined
      ? `${cap(which(d))} faces too far from that pose: the ${String(d['engine'] ?? 'current')} engine can turn it only ${String(d['limit'] ?? 0)} of the ${String(d['turn'] ?? '')} degrees without inventing what the photo doesn't show. ${String(d['advice'])}`
      : d['turn'] !== undefined
        ? `${cap(which(d))} faces too far from that pose: it would need a ${String(d['turn'])} degree turn, and the ${String(d['engine'] ?? 'current')} engine turns a head at most ${String(d['limit'] ?? 40)} degrees. Send a selfie that faces closer to the pose you want, or pick a pose nearer your photo's.`
        : `That pose turns the head further than the ${String(d['engine'] ?? 'current')} engine can draw well (at most ${String(d['limit'] ?? '30')} degrees). Pick a smaller turn, or ask the admin for the diffusion engine.`,
  'request.bad_lighting': (d) =>
    `I don't know the lighting '${String(d['got'] ?? '')}'.${suggestion(d)} Try studio, rembrandt, golden hour, or "key from left, warm".`,
  'request.bad_style': (d) =>
    d['first']
      ? `Pick one ${String(d['role'] ?? 'look')}: '${String(d['first'])}' and '${String(d['second'] ?? '')}' don't combine. A style is at most one look, one colour treatment and one backdrop, e.g. "black and white oil paint, studio grey".`
      : `I don't know the style '${String(d['got'] ?? '')}'.${suggestion(d)} Styles: ${String(d['styles'] ?? 'see the help')}; combine a look with a backdrop, e.g. "black and white, studio grey".`,
  'request.backdrop_unavailable': (d) =>
    `I can't put a studio backdrop behind you in ${which(d)}: ${String(d['why'] ?? 'you cannot be cut out cleanly')}. ${String(d['advice'] ?? 'Send a selfie against a plain wall.')} Or ask again without the backdrop to keep your own background.`,
  'request.bad_option': (d) =>
    `${String(d['option'] ?? 'An option')} is not valid: ${String(d['expected'] ?? 'check the help')}.`,
  'request.engine_unavailable': (d) =>
    `The ${String(d['engine'] ?? 'requested')} engine isn't set up on this bot. Leave the engine out to use the default.`,
  'quota.user_in_flight': (d) =>
    `You already have ${plural(Number(d['limit'] ?? 2), 'portrait')} in progress. Wait for one to finish, or cancel one with ${String(d['cancelWith'] ?? '/portrait-status')}.`,
  'quota.queue_full': () => 'The portrait queue for this community is full right now. Try again in a few minutes.',
  'quota.rate_limited': (d) =>
    `You're making portraits faster than this bot allows. Try again in ${String(d['retryAfter'] ?? 'a minute')}.`,
  'access.not_allowed': () => "Portraits aren't enabled in this channel. Ask an admin which channel to use.",
  'job.cancelled': () => 'This portrait was cancelled.',
  'job.timeout': () => 'This portrait took too long and was stopped. Try again, perhaps with fewer variations.',
  'job.expired': () => 'This request expired before it could run. Send it again.',
  'service.restarting': () => 'The portrait bot is restarting. Try again in a minute.',
  'service.unavailable': () => "The portrait service can't reach its queue right now. Try again in a few minutes.",
  'event.not_found': (d) => {
    const open = d['open'] ? ` Open events: ${String(d['open'])}.` : '';
    if (!d['name']) {
      return open ? `Name the event you mean.${open}` : "There's no open avatar event here right now.";
    }
    return `There's no avatar event called '${String(d['name'])}' here.${open || ' Check the name with an organiser.'}`;
  },
  'event.not_open': (d) =>
    d['opens']
      ? `${eventName(d)} opens at ${String(d['opens'])} UTC. Join again then.`
      : `${eventName(d)} isn't open yet. An organiser opens it when it starts.`,
  'event.closed': (d) =>
    `${eventName(d)} is closed and takes no new entries. Avatars already made stay in its gallery.`,
  'event.not_allowed': (d) =>
    d['reason'] === 'theme_locked'
      ? `Members have already joined ${d['name'] ? `'${String(d['name'])}'` : 'this event'}, so its theme can't change any more (their avatars would no longer match). Create a new event for a new theme.`
      : `Only organisers can do that${d['name'] ? ` for '${String(d['name'])}'` : ''}: server or workspace admins, the organiser role or group, and the people the event names.`,
  'event.name_taken': (d) =>
    `There's already an event called '${String(d['name'] ?? '')}' here. Pick another name, or edit that event.`,
  'internal.error': () => 'Something went wrong on my side while making your portrait.',
  'model.missing': () => 'The portrait bot is missing a model file. The admin has been told.',
  'model.checksum': () => 'The portrait bot has a damaged model file. The admin has been told.',
  'model.invalid': () => 'The portrait bot has a model it cannot use. The admin has been told.',
};

function plural(n: number, noun: string): string {
  if (!Number.isFinite(n)) return `the most ${noun}s allowed`;
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The sentence for an error; internal errors end with their reference id so support can find the log line. */
export function describeError(err: Pick<ErrorPayload, 'code' | 'details' | 'refId'>): string {
  const sentence = SENTENCES[err.code](err.details);
  return err.refId ? `${sentence} (reference ${err.refId})` : sentence;
}
