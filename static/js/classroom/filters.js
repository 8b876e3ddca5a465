// The dashboard's gallery filters, pure (no DOM): which submissions are shown.
//
// filterGallery(items, {cls, maxConfidence, misread}) with cls a class index or null,
// maxConfidence in (0, 1] (show only readings at most this sure), misread: only digits whose
// student said what they meant and the network read something else.
export function filterGallery(items, { cls = null, maxConfidence = 1, misread = false } = {}) {
  return items.filter((s) => (cls == null || s.prediction === cls)
    && s.confidence <= maxConfidence + 1e-9
    && (!misread || (s.label != null && s.label !== s.prediction)));
}

// What the projector shows as a student's name.
export const shownName = (student, anonymous) => (anonymous ? `Student ${student.id}` : student.name);

// One submission in, the gallery (each student's latest, newest first) out.
export function upsertLatest(gallery, sub) {
  return [sub, ...gallery.filter((s) => s.student.id !== sub.student.id)];
}
