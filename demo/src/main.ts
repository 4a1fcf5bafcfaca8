import {
  categoryOf,
  uploadMultipart,
  uploadTus,
  type FileUploadHandle,
  type UploadMethod,
} from './file-upload';
import { sha256Hex } from './format';
import { MediaLibrary } from './media-library';
import { ProgressView, SpeedMeter } from './progress-view';
import { Recording } from './recorder';
import { Session } from './session';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;

const session = new Session();
const library = new MediaLibrary(session, $('#library'));

function say(target: string, message: string, isError = false): void {
  const element = $(target);
  element.textContent = message;
  element.classList.toggle('error', isError);
}

/** Shows the sections that need an account once logged in. */
function render(): void {
  const user = session.user;
  const loggedIn = Boolean(session.token && user);
  $('#who').textContent = loggedIn ? `Logged in as ${user!.username}` : 'Not logged in';
  $('#logout').hidden = !loggedIn;
  $('#account').hidden = loggedIn;
  for (const id of ['#record', '#upload', '#library']) $(id).hidden = !loggedIn;
  if (loggedIn) void library.refresh();
  else library.clear();
}

// ---- Account -------------------------------------------------------------------------------------------------

function formValue(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement).value.trim();
}

$<HTMLFormElement>('#signup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  void (async () => {
    const { data, error } = await session.api.POST('/api/auth/register', {
      body: {
        username: formValue(form, 'username'),
        email: formValue(form, 'email'),
        password: (form.elements.namedItem('password') as HTMLInputElement).value,
      },
    });
    if (!data) return say('#account-status', error?.message ?? 'Sign-up failed', true);
    session.signIn(data.accessToken, data.user);
    say('#account-status', '');
    render();
    $('#record-start').focus();
  })();
});

$<HTMLFormElement>('#login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  void (async () => {
    const { data, error } = await session.api.POST('/api/auth/login', {
      body: {
        login: formValue(form, 'login'),
        password: (form.elements.namedItem('password') as HTMLInputElement).value,
      },
    });
    if (!data) return say('#account-status', error?.message ?? 'Login failed', true);
    session.signIn(data.accessToken, data.user);
    say('#account-status', '');
    render();
    $('#record-start').focus();
  })();
});

$('#logout').addEventListener('click', () => {
  session.signOut();
  render();
  $('#login-login').focus();
});

// ---- Record ----------------------------------------------------------------------------------------------------

const recordSection = $('#record');
const recordProgress = new ProgressView($('#record-progress'));
const startButton = $<HTMLButtonElement>('#record-start');
const stopButton = $<HTMLButtonElement>('#record-stop');
const preview = $<HTMLVideoElement>('#preview');
let recording: Recording | undefined;
let progressTimer: number | undefined;
let serverSpeed = 0;

/** Percent = bytes the server acknowledged / bytes recorded so far; 100 only once the file is assembled. */
function showRecordProgress(): void {
  const uploader = recording?.uploader;
  if (!uploader) return;
  const produced = uploader.producedBytes;
  const acked = uploader.ackedBytes;
  const percent = uploader.isComplete ? 100 : produced > 0 ? Math.min(99, (acked / produced) * 100) : 0;
  const eta = uploader.isComplete ? 0 : serverSpeed > 0 ? (produced - acked) / serverSpeed : null;
  recordProgress.show({ percent, loaded: acked, total: produced, speed: serverSpeed, eta });
}

/** Speed comes from the server's progress record (GET /api/upload/progress/:uploadId), polled every second. */
async function pollServerProgress(): Promise<void> {
  const uploadId = recording?.uploader.uploadId;
  if (!uploadId) return;
  const { data } = await session.api
    .GET('/api/upload/progress/{id}', { params: { path: { id: uploadId } } })
    .catch(() => ({ data: undefined }));
  if (data) serverSpeed = data.speed;
  showRecordProgress();
}

startButton.addEventListener('click', () => {
  void (async () => {
    startButton.disabled = true;
    recordProgress.reset();
    delete recordSection.dataset.sha256;
    try {
      recording = await Recording.start(session.api, {
        onAck: () => showRecordProgress(),
        onRetry: (attempt, delayMs, reason) =>
          say(
            '#record-status',
            `Connection problem (${reason}); retry ${attempt} in ${delayMs / 1000} s…`,
            true,
          ),
        onResync: (status) => {
          recordSection.dataset.resumedFrom = String(status.nextChunkIndex);
          say('#record-status', `Resuming from chunk ${status.nextChunkIndex}`);
        },
      });
    } catch (error) {
      startButton.disabled = false;
      return say('#record-status', `Camera unavailable: ${(error as Error).message}`, true);
    }
    recordSection.dataset.state = 'recording';
    recordSection.dataset.fileId = recording.uploader.fileId;
    preview.srcObject = recording.stream;
    void preview.play().catch(() => undefined);
    stopButton.disabled = false;
    stopButton.focus();
    say('#record-status', 'Recording… each second is uploaded as it is recorded');
    progressTimer = window.setInterval(() => void pollServerProgress(), 1000);
  })();
});

stopButton.addEventListener('click', () => {
  const current = recording;
  if (!current) return;
  stopButton.disabled = true;
  recordSection.dataset.state = 'finishing';
  say('#record-status', 'Finishing the upload…');
  void (async () => {
    try {
      const result = await current.stop();
      preview.srcObject = null;
      recordSection.dataset.uploadId = result.uploadId;
      // Exposed for the end-to-end test, which compares it with the file the server assembled.
      recordSection.dataset.sha256 = await sha256Hex(current.blob());
      recordSection.dataset.state = 'completed';
      showRecordProgress();
      say('#record-status', 'Recording uploaded');
      await library.refresh();
    } catch (error) {
      recordSection.dataset.state = 'failed';
      say('#record-status', `Upload failed: ${(error as Error).message}`, true);
    } finally {
      window.clearInterval(progressTimer);
      startButton.disabled = false;
      startButton.focus();
    }
  })();
});

// ---- Upload a file -------------------------------------------------------------------------------------------

const uploadSection = $('#upload');
const uploadProgress = new ProgressView($('#upload-progress'));
const uploadButton = $<HTMLButtonElement>('#upload-start');
const cancelButton = $<HTMLButtonElement>('#upload-cancel');
let current: FileUploadHandle | undefined;

$<HTMLFormElement>('#upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const file = $<HTMLInputElement>('#upload-file').files?.[0];
  if (!file) return say('#upload-status', 'Choose a file first', true);
  const method = (form.elements.namedItem('method') as RadioNodeList).value as UploadMethod;
  const meter = new SpeedMeter();
  let serverSeen = false;
  uploadProgress.reset();
  const handle = (method === 'tus' ? uploadTus : uploadMultipart)(session, file, (progress, from) => {
    if (from === 'server') serverSeen = true;
    else if (serverSeen) return; // the server's numbers (stored bytes, its speed and ETA) win once they arrive
    if (from === 'client' && progress.speed === 0) {
      progress.speed = meter.add(progress.loaded);
      progress.eta =
        progress.speed > 0 && progress.total ? (progress.total - progress.loaded) / progress.speed : null;
    }
    uploadProgress.show(progress);
    uploadSection.dataset.uploadId = handle.uploadId;
  });
  current = handle;
  uploadSection.dataset.state = 'uploading';
  uploadSection.dataset.uploadId = handle.uploadId;
  uploadButton.disabled = true;
  cancelButton.disabled = false;
  say('#upload-status', `Uploading ${file.name} (${categoryOf(file)}, ${method})…`);
  void handle.done
    .then(() => {
      uploadProgress.show({ percent: 100, loaded: file.size, total: file.size, speed: 0, eta: 0 });
      uploadSection.dataset.state = 'completed';
      say('#upload-status', `${file.name} uploaded`);
      return library.refresh();
    })
    .catch((error: Error) => {
      if (uploadSection.dataset.state !== 'cancelled') uploadSection.dataset.state = 'failed';
      say('#upload-status', error.message, uploadSection.dataset.state === 'failed');
    })
    .finally(() => {
      current = undefined;
      uploadButton.disabled = false;
      cancelButton.disabled = true;
    });
});

cancelButton.addEventListener('click', () => {
  const handle = current;
  if (!handle) return;
  cancelButton.disabled = true;
  uploadSection.dataset.state = 'cancelled';
  void handle
    .cancel()
    .then(() => say('#upload-status', 'Upload cancelled'))
    .catch((error: Error) => say('#upload-status', `Cancel failed: ${error.message}`, true))
    .finally(() => {
      uploadButton.focus();
      void library.refresh();
    });
});

render();
