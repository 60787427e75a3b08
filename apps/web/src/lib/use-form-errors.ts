import { useCallback, useState } from 'react';
import { NO_FORM_ERRORS, formErrors, type FormErrors } from './api-errors.ts';

/** Server errors for a form; a field's error clears as soon as the user edits that field. */
export function useFormErrors() {
  const [errors, setErrors] = useState<FormErrors>(NO_FORM_ERRORS);
  const clearField = useCallback((field: string) => {
    setErrors((current) => {
      if (!current.fields[field]) return current;
      const { [field]: _cleared, ...rest } = current.fields;
      return { ...current, fields: rest };
    });
  }, []);
  return {
    errors,
    setFromError: useCallback((error: unknown) => setErrors(formErrors(error)), []),
    setErrors,
    reset: useCallback(() => setErrors(NO_FORM_ERRORS), []),
    clearField,
  };
}
