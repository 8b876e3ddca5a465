// Which rows of a softmax column carry their class name and percentage. Pure: no DOM.
//
// Every class gets its bar; when rows are shorter than a line of text (100 classes in a
// 300 px column) naming all of them piles the labels into a smear, so only the most probable
// classes are named, the prediction first, each kept a label's height from the others.
// namedRows(values, prediction, rowH, labelH) -> sorted row indices.

export function namedRows(values, prediction, rowH, labelH) {
  const n = values.length;
  if (rowH >= labelH) return [...Array(n).keys()];
  const order = [...Array(n).keys()].sort((a, b) => values[b] - values[a] || a - b);
  if (prediction != null && prediction >= 0 && prediction < n) {
    order.splice(order.indexOf(prediction), 1);
    order.unshift(prediction);
  }
  const named = [];
  for (const i of order) {
    if (named.every((j) => Math.abs(i - j) * rowH >= labelH)) named.push(i);
  }
  return named.sort((a, b) => a - b);
}
