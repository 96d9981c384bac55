/**
 * Model cards: every pretrained file the pipeline can load, where it comes from, how to check it and what it
 * expects. The registry (registry.ts) resolves a card to a verified local file; sessions.ts opens it once.
 * Facts come from running each model was run with onnxruntime-node 1.30 on real photos.
 */

export const MODEL_IDS = [
  'yunet',
  'face-mesh',
  'iris',
  'selfie-segmentation',
  'skin-clothes-hair',
  'depth',
  'identity',
] as const;
export type ModelId = (typeof MODEL_IDS)[number];

export interface TensorSpec {
  name: string;
  type: 'float32';
  /** Symbolic dimensions as strings ('N', 'H', 'n'). */
  shape: ReadonlyArray<number | string>;
  /** Layout, value range and normalisation, in words. */
  note: string;
}

export interface ModelCard {
  id: ModelId;
  /** File name in PORTRAIT_MODELS_DIR, the cache and on a mirror. */
  file: string;
  /** Canonical download URL, pinned to a commit or version so the sha256 stays valid. */
  url: string;
  sha256: string;
  /** Size in bytes, for the progress bar and a cheap sanity check before hashing. */
  bytes: number;
  license: string;
  description: string;
  /** Optional models are only fetched when configured (the identity scorer); the product runs without them. */
  optional: boolean;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

export const MODEL_CARDS: readonly ModelCard[] = [
  {
    id: 'yunet',
    file: 'yunet_n_dynamic.onnx',
    url: 'https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx',
    sha256: '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12',
    bytes: 322_906,
    license: 'Apache-2.0',
    description: 'YuNet face detector (libfacedetection), dynamic input size',
    optional: false,
    inputs: [
      { name: 'input', type: 'float32', shape: ['N', 3, 'H', 'W'], note: 'BGR 0..255, H and W multiples of 32' },
    ],
    outputs: [8, 16, 32].flatMap((s) => [
      { name: `cls_${s}`, type: 'float32' as const, shape: [1, 'n', 1], note: `class score per stride-${s} cell` },
      { name: `obj_${s}`, type: 'float32' as const, shape: [1, 'n', 1], note: `objectness per stride-${s} cell` },
      { name: `bbox_${s}`, type: 'float32' as const, shape: [1, 'n', 4], note: 'cx, cy offsets in cells, log w, h' },
      { name: `kps_${s}`, type: 'float32' as const, shape: [1, 'n', 10], note: '5 keypoints as cell offsets' },
    ]),
  },
  {
    id: 'face-mesh',
    file: 'mediapipe-face_landmark_barracuda.onnx',
    url: 'https://raw.githubusercontent.com/keijiro/FaceLandmarkBarracuda/a58cb33127d5608571527a49cd61b1c3025e74e3/Packages/jp.keijiro.mediapipe.facelandmark/ONNX/face_landmark_barracuda.onnx',
    sha256: 'ed487104519b0a88cb2cb2ec3678e183f447fb9dd63560998e960ffbaa8fb335',
    bytes: 2_440_358,
    license: 'Apache-2.0 (MediaPipe Face Mesh)',
    description: 'MediaPipe 468-point face mesh',
    optional: false,
    inputs: [
      {
        name: 'input_1',
        type: 'float32',
        shape: [1, 3, 192, 192],
        note: 'RGB 0..1, square crop ~1.5x the detector box, eye line horizontal',
      },
    ],
    outputs: [
      { name: 'conv2d_20', type: 'float32', shape: [1, 1404, 1, 1], note: '468 x (x, y, z) in crop pixels' },
      { name: 'conv2d_30', type: 'float32', shape: [1, 1, 1, 1], note: 'face-presence logit' },
    ],
  },
  {
    id: 'iris',
    file: 'mediapipe-iris_landmark_barracuda.onnx',
    url: 'https://raw.githubusercontent.com/keijiro/IrisBarracuda/e1372d7285e060a10c233e0e88ca5a97ccaee99c/Packages/jp.keijiro.mediapipe.iris/ONNX/iris_landmark_barracuda.onnx',
    sha256: '3eb985960b80e6069812c2f20682b7a4194d80cf5a3a918ddb8d0b3ca72a6432',
    bytes: 2_645_189,
    license: 'Apache-2.0 (MediaPipe Iris)',
    description: 'MediaPipe iris and eye-contour landmarks',
    optional: false,
    inputs: [{ name: 'input_1', type: 'float32', shape: [1, 3, 64, 64], note: 'RGB 0..1 eye crop' }],
    outputs: [
      { name: 'output_eyes_contours_and_brows', type: 'float32', shape: [1, 213], note: '71 x (x, y, z)' },
      { name: 'output_iris', type: 'float32', shape: [1, 15], note: '5 x (x, y, z)' },
    ],
  },
  {
    id: 'selfie-segmentation',
    file: 'mediapipe-selfie_segmentation.onnx',
    url: 'https://raw.githubusercontent.com/royshil/obs-backgroundremoval/875ffda175fcb066380b31797c63630c8b4a3c71/data/models/selfie_segmentation.onnx',
    sha256: '1511ab5564cb0ae179cba9bcad6ad931003ccc71656f11fd270967023678c6a5',
    bytes: 447_596,
    license: 'Apache-2.0 (MediaPipe selfie segmentation; ONNX conversion by PINTO)',
    description: 'MediaPipe selfie segmentation (general 256x256): person vs background',
    optional: false,
    inputs: [
      {
        name: 'input_1:0',
        type: 'float32',
        shape: [1, 256, 256, 3],
        note: 'NHWC RGB 0..1, the whole photo stretched to 256x256',
      },
    ],
    outputs: [{ name: 'activation_10', type: 'float32', shape: [1, 256, 256, 1], note: 'person probability 0..1' }],
  },
  {
    id: 'skin-clothes-hair',
    file: 'skin-clothes-hair-pan.onnx',
    url: 'https://raw.githubusercontent.com/Kazuhito00/Skin-Clothes-Hair-Segmentation-using-SMP/043fc08bf0ed845b36485a115085104c6459cbc4/02.model/_old/PAN%28timm-mobilenetv3_small_100%29_452_1.02M_0.8028/best_model_simplifier.onnx',
    sha256: '324a22a1c2e3a433d6225d4c5c50f50912797a4d14b69f7d632eeb5c85346f36',
    bytes: 4_093_734,
    license: 'MIT (Kazuhito00/Skin-Clothes-Hair-Segmentation-using-SMP, code and weights)',
    description: 'PAN (MobileNetV3-small) skin, clothes and hair segmentation, 512x512',
    optional: false,
    inputs: [
      {
        name: 'x.1',
        type: 'float32',
        shape: [1, 3, 512, 512],
        note: 'NCHW RGB, (x/255 - ImageNet mean) / ImageNet std',
      },
    ],
    outputs: [{ name: '1273', type: 'float32', shape: [1, 3, 512, 512], note: 'per-class 0..1: skin, clothes, hair' }],
  },
  {
    id: 'depth',
    file: 'tcmonodepth_tcsmallnet_192x320.onnx',
    url: 'https://raw.githubusercontent.com/royshil/obs-backgroundremoval/875ffda175fcb066380b31797c63630c8b4a3c71/data/models/tcmonodepth_tcsmallnet_192x320.onnx',
    sha256: '902b886beaebd3f68deb40bab2fd636a0c112c1ef1cbdd15fa26e5c55b389b4d',
    bytes: 790_459,
    license: 'MIT (TCMonoDepth, Yu Li; ONNX conversion by PINTO)',
    description: 'TCMonoDepth small net: relative inverse depth at 192x320 (ears the selfie model lost)',
    // It puts the shoulders level with or nearer than the face, so it says nothing below the chin; beside the face
    // it tells an ear from a skin-coloured wall (segment/ears.ts).
    optional: false,
    inputs: [
      {
        name: 'input',
        type: 'float32',
        shape: [1, 3, 192, 320],
        note: 'NCHW RGB raw 0..255 (no scaling: /255 or ImageNet statistics give a meaningless gradient)',
      },
    ],
    outputs: [
      { name: 'output', type: 'float32', shape: [1, 1, 192, 320], note: 'relative inverse depth, larger = nearer' },
    ],
  },
  {
    id: 'identity',
    file: 'faceplugin-fr_feature.onnx',
    // The file ships inside the npm package faceplugin-face-recognition-js@0.0.1 (model/fr_feature.onnx);
    // jsDelivr serves single files of a pinned npm version, and the sha256 pins the bytes whatever the host.
    url: 'https://cdn.jsdelivr.net/npm/faceplugin-face-recognition-js@0.0.1/model/fr_feature.onnx',
    sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
    bytes: 4_884_269,
    license: 'MIT per its npm package; the origin of the weights is not documented',
    description: 'ArcFace-style 112x112 identity embedder (optional likeness score)',
    optional: true,
    inputs: [
      {
        name: 'input',
        type: 'float32',
        shape: [1, 3, 112, 112],
        note: 'RGB (x-127)/128, 5-point similarity-aligned to the ArcFace template',
      },
    ],
    outputs: [{ name: 'output', type: 'float32', shape: [1, 512], note: 'embedding; cosine ~0.7 same person' }],
  },
];

export function isModelId(value: string): value is ModelId {
  return (MODEL_IDS as readonly string[]).includes(value);
}

export function modelCard(id: ModelId): ModelCard {
  const card = MODEL_CARDS.find((c) => c.id === id);
  if (!card) throw new Error(`no model card for ${id}`);
  return card;
}
