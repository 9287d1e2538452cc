// Plain inline styles, so the panel needs nothing from Flex's theme.
export const Styles = {
  panel: { fontFamily: 'system-ui, sans-serif', fontSize: 14, padding: 16, maxWidth: 420 },
  title: { fontSize: 18, margin: '0 0 12px' },
  label: { display: 'flex', flexDirection: 'column', gap: 4, marginBottom: 8 },
  input: { fontSize: 16, padding: '6px 8px', border: '1px solid #8891aa', borderRadius: 4 },
  row: { display: 'flex', gap: 12, alignItems: 'flex-end', marginBottom: 8, flexWrap: 'wrap' },
  choice: { display: 'flex', gap: 4, alignItems: 'center' },
  button: { fontSize: 14, padding: '6px 14px', borderRadius: 4, border: 0, background: '#0263e0', color: '#fff', cursor: 'pointer' },
  status: { padding: '10px 12px', borderRadius: 4, borderLeft: '6px solid', marginTop: 12, fontWeight: 600 },
};

// One look per outcome, so an agent tells them apart at a glance.
export const stateColors = {
  idle: { background: '#f4f4f6', borderColor: '#8891aa', color: '#121c2d' },
  sent: { background: '#ebf4ff', borderColor: '#0263e0', color: '#001489' },
  approved: { background: '#edfdf3', borderColor: '#14b053', color: '#0b602d' },
  wrong: { background: '#fffbeb', borderColor: '#f2be5a', color: '#6a4d00' },
  expired: { background: '#f4f4f6', borderColor: '#606b85', color: '#121c2d' },
  locked: { background: '#feeceb', borderColor: '#d61f1f', color: '#8d0000' },
  too_many: { background: '#feeceb', borderColor: '#d61f1f', color: '#8d0000' },
  unavailable: { background: '#fffbeb', borderColor: '#f2be5a', color: '#6a4d00' },
  error: { background: '#feeceb', borderColor: '#d61f1f', color: '#8d0000' },
};
