// The Emscripten module of @echogarden/fvad-wasm (libfvad, WebRTC's VAD), which ships no types.
declare module '@echogarden/fvad-wasm' {
  export interface FvadModule {
    _fvad_new(): number;
    _fvad_free(handle: number): void;
    _fvad_reset(handle: number): void;
    /** 0 (least aggressive) to 3; returns 0, or -1 for a mode out of range. */
    _fvad_set_mode(handle: number, mode: number): number;
    /** 8000, 16000, 32000 or 48000; returns 0, or -1. */
    _fvad_set_sample_rate(handle: number, rate: number): number;
    /** 1 voiced, 0 not, -1 for a frame length other than 10, 20 or 30 ms. */
    _fvad_process(handle: number, samples: number, length: number): number;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    HEAP16: Int16Array;
  }
  const load: (options?: Record<string, unknown>) => Promise<FvadModule>;
  export default load;
}
